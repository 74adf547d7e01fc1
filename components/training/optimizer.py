"""AdamW with linear warmup then cosine decay, as BERT-style fine-tuning expects."""
import keras

from pipeline.config import TrainingConfig

_NO_DECAY = ("bias", "gamma", "beta", "layer_norm", "layernorm", "embeddings")


def build_optimizer(training: TrainingConfig, total_steps: int) -> keras.optimizers.Optimizer:
    warmup = int(total_steps * training.warmup_fraction)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        warmup_target=training.learning_rate,
        warmup_steps=warmup,
        decay_steps=max(total_steps - warmup, 1),
    )
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=training.weight_decay, clipnorm=1.0)
    optimizer.exclude_from_weight_decay(var_names=list(_NO_DECAY))  # norms, biases and embeddings are not decayed
    return optimizer
