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
