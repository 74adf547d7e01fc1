"""AdamW with linear warmup then cosine decay, as BERT-style fine-tuning expects.

Gradient clipping is not the optimizer's job here: the train step clips the gradient summed over replicas and
micro-batches (components/training/train_step.py), which the optimizer's own clipnorm cannot see.
"""
import keras

from components.core.config import TrainingConfig

_NO_DECAY = ("bias", "gamma", "beta", "layer_norm", "layernorm", "embeddings")


def build_optimizer(training: TrainingConfig, total_updates: int) -> keras.optimizers.Optimizer:
    """`total_updates` counts optimizer updates (not micro-batches): the schedule's clock is the optimizer's."""
    warmup = int(total_updates * training.warmup_fraction)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        warmup_target=training.learning_rate,
        warmup_steps=warmup,
        decay_steps=max(total_updates - warmup, 1),
    )
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=training.weight_decay)
    optimizer.exclude_from_weight_decay(var_names=list(_NO_DECAY))  # norms, biases and embeddings are not decayed
    if training.mixed_precision == "mixed_float16":
        # compile() would wrap it too, but only when the model's own policy is mixed_float16: say it here.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
