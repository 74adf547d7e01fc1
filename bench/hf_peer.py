"""The Hugging Face peer of bench/trainer_speed.py: BertForMaskedLM + torch AdamW, run in its own venv (.bench-venv,
Python 3.11 with torch and transformers, kept out of the project's install) as a subprocess that takes commands.

stdin, one per line: "run N" -> trains N steps and prints {"steps", "seconds", "cpu_seconds"} as one JSON line;
"quit".
--masked-only computes the MLM head at the masked positions only, as keras-hub's MaskedLMHead does.
"""
import argparse
import json
import sys
import time

import torch
from transformers import BertConfig, BertForMaskedLM


def main():
    parser = argparse.ArgumentParser()
    for name, default in [("layers", 4), ("hidden", 256), ("heads", 4), ("ff", 1024), ("vocab", 8192), ("seq", 128),
                          ("batch", 32), ("predictions", 20), ("threads", 2)]:
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--masked-only", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=args.vocab, hidden_size=args.hidden, num_hidden_layers=args.layers,
                        num_attention_heads=args.heads, intermediate_size=args.ff, max_position_embeddings=args.seq)
    model = BertForMaskedLM(config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    ids = torch.randint(5, args.vocab, (args.batch, args.seq))
    positions = torch.stack([torch.randperm(args.seq - 1)[:args.predictions].sort().values + 1
                             for _ in range(args.batch)])  # (B, P)
    targets = torch.randint(5, args.vocab, (args.batch, args.predictions))
    labels = torch.full_like(ids, -100).scatter_(1, positions, targets)
    mask = torch.ones_like(ids)

    def step():
        if args.masked_only:
            sequence = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state  # (B, L, H)
            picked = sequence.gather(1, positions[..., None].expand(-1, -1, args.hidden))  # (B, P, H)
            logits = model.cls(picked)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, args.vocab), targets.reshape(-1))
        else:
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        steps = int(command[1])
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        print(json.dumps({"steps": steps, "seconds": time.perf_counter() - start,
                          "cpu_seconds": time.process_time() - cpu}), flush=True)


if __name__ == "__main__":
    main()
