"""Small generated datasets for end-to-end tests: learnable in seconds, so a failure means a real defect."""
import csv
import random

POSITIVE = ["great", "wonderful", "moving", "brilliant", "delightful", "superb"]
NEGATIVE = ["awful", "boring", "dull", "terrible", "clumsy", "tedious"]
FILLER = ["the", "film", "was", "a", "story", "with", "acting", "plot", "and", "its", "cast", "this", "movie",
          "really", "quite", "ending", "scenes", "director"]


def sentiment_rows(count: int, seed: int = 0, label_noise: float = 0.0):
    """(text, label) pairs: the label follows the sentiment word, flipped with probability `label_noise`."""
    rng = random.Random(seed)
    for _ in range(count):
        positive = rng.random() < 0.5
        words = rng.sample(FILLER, rng.randint(3, 8))
        words.insert(rng.randint(0, len(words)), rng.choice(POSITIVE if positive else NEGATIVE))
        text = " ".join(words).capitalize() + rng.choice([".", "!", "..."])
        if rng.random() < label_noise:
            positive = not positive
        yield text, "positive" if positive else "negative"


def write_csv(path, rows, header=("text", "label")) -> str:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


PEOPLE = ["Alice", "Bob", "Maria", "Chen", "Zoë", "Omar", "Ingrid", "Pierre", "Ann Lee", "José Ruiz"]
PLACES = ["Paris", "London", "São Paulo", "New York", "Oslo", "Tokyo", "Lima", "Cairo", "Zürich", "Rio"]
TEMPLATES = ["{PER} visited {LOC} .", "{PER} lives in {LOC}", "yesterday {PER} flew to {LOC} with {PER}",
             "the weather in {LOC} was nice", "{PER} and {PER} met in {LOC} last week", "we saw {PER} near {LOC} !"]


def entity_sentences(count: int, seed: int = 0):
    """(words, BIO tags) sentences from templates with person (PER) and place (LOC) names, some of two words."""
    rng = random.Random(seed)
    for _ in range(count):
        words, tags = [], []
        for part in rng.choice(TEMPLATES).split():
            if part in ("{PER}", "{LOC}"):
                name = rng.choice(PEOPLE if part == "{PER}" else PLACES).split()
                words += name
                tags += [f"B-{part[1:4]}"] + [f"I-{part[1:4]}"] * (len(name) - 1)
            else:
                words.append(part)
                tags.append("O")
        yield words, tags


def write_conll(path, sentences) -> str:
    """Tab-separated word and tag, a blank line between sentences, a -DOCSTART- line first (CoNLL-2003 style)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("-DOCSTART-\tO\n\n")
        for words, tags in sentences:
            f.write("".join(f"{word}\t{tag}\n" for word, tag in zip(words, tags)) + "\n")
    return str(path)


def review_documents(count: int, seed: int = 0):
    """Documents of 3-6 review sentences (those of `sentiment_rows`, labels dropped): unlabelled text for pretraining
    on the same words the classifier later sees."""
    rng = random.Random(seed)
    sentences = (text for text, _ in sentiment_rows(count * 6, seed=seed))
    for _ in range(count):
        yield [next(sentences) for _ in range(rng.randint(3, 6))]


def write_documents(path, documents) -> str:
    """One sentence per line, a blank line after each document (read with data.document_split=blank_line)."""
    with open(path, "w", encoding="utf-8") as f:
        f.writelines("".join(f"{sentence}\n" for sentence in document) + "\n" for document in documents)
    return str(path)


# Software messages in English and a made-up but regular "German": word for word, the verb moved to the end, the
# placeholders (%s, %d, %1$s, {0}) carried through unchanged. Enough structure for a tiny model to start learning.
_OBJECTS = {"file": "Datei", "directory": "Verzeichnis", "archive": "Archiv", "key": "Schlüssel",
            "branch": "Zweig", "table": "Tabelle", "user": "Benutzer", "server": "Server"}
_VERBS = {"open": "öffnen", "read": "lesen", "write": "schreiben", "delete": "löschen", "create": "erstellen",
          "find": "finden"}
_PLACEHOLDERS = ["%s", "%d", "%1$s", "{0}", "«%s»"]


def message_pairs(count: int, seed: int = 0):
    """(English, pseudo-German) message pairs with placeholders, most of them distinct."""
    rng = random.Random(seed)
    for _ in range(count):
        obj, verb, placeholder = rng.choice(list(_OBJECTS)), rng.choice(list(_VERBS)), rng.choice(_PLACEHOLDERS)
        if rng.random() < 0.5:
            yield (f"could not {verb} {obj} {placeholder}",
                   f"{_OBJECTS[obj]} {placeholder} konnte nicht {_VERBS[verb]}")
        else:
            number = rng.randint(2, 99)
            yield (f"{verb} {number} {obj} entries in {placeholder}?",
                   f"{number} {_OBJECTS[obj]} Einträge in {placeholder} {_VERBS[verb]}?")


def write_tsv(path, rows, header=("source", "target")) -> str:
    """Tab-separated with a header, quoted as the csv module quotes (as the shared software-messages data is)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)
