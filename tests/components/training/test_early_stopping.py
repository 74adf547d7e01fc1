"""Early stopping on any eval metric, whose state a checkpoint carries across a restart."""
import pytest
import tensorflow as tf

from components.core.config import TrainingConfig
from components.core.errors import UserError
from components.nn.metrics.headline import Headline
from components.training import loop
from components.training.early_stopping import EarlyStopping


class _Model:
    stop_training = False


def _stopper(monitor="val_loss", mode="auto", patience=2, model=None):
    stopper = EarlyStopping(monitor, mode, patience)
    stopper.set_model(model or _Model())
    improvements = []
    stopper.on_improvement = lambda: improvements.append(True)
    return stopper, improvements


def test_stops_after_patience_epochs_without_improvement_and_remembers_the_best():
    stopper, improvements = _stopper(patience=2)
    for epoch, loss in enumerate([0.9, 0.5, 0.6, 0.55]):
        stopper.on_epoch_end(epoch, {"val_loss": loss})
    assert stopper.model.stop_training and stopper.stopped
    assert len(improvements) == 2 and int(stopper.best_epoch.numpy()) == 1 and float(stopper.best.numpy()) == 0.5


@pytest.mark.parametrize("monitor, mode, values, best_epoch", [
    ("val_accuracy", "auto", [0.5, 0.7, 0.6], 1),  # "auto": higher is better unless the name holds "loss"
    ("val_entity_f1", "auto", [0.2, 0.1, 0.3], 2),
    ("val_perplexity", "min", [9.0, 7.0, 8.0], 1),
])
def test_direction_follows_the_mode(monitor, mode, values, best_epoch):
    stopper, _ = _stopper(monitor, mode, patience=5)
    for epoch, value in enumerate(values):
        stopper.on_epoch_end(epoch, {monitor: value})
    assert int(stopper.best_epoch.numpy()) == best_epoch


def test_state_survives_a_checkpoint_round_trip(tmp_path):
    stopper, _ = _stopper(patience=3)
    for epoch, loss in enumerate([0.5, 0.7, 0.8]):
        stopper.on_epoch_end(epoch, {"val_loss": loss})
    path = tf.train.Checkpoint(**stopper.state).save(str(tmp_path / "state"))
    resumed, _ = _stopper(patience=3)
    tf.train.Checkpoint(**resumed.state).restore(path)
    resumed.on_epoch_end(3, {"val_loss": 0.9})  # the third epoch without improvement since epoch 0
    assert resumed.model.stop_training and float(resumed.best.numpy()) == 0.5


def test_an_unknown_metric_is_a_clear_error():
    stopper, _ = _stopper(monitor="val_f1")
    with pytest.raises(UserError, match="val_f1") as error:
        stopper.on_epoch_end(0, {"loss": 1.0, "val_loss": 1.0, "val_accuracy": 0.5})
    assert "val_accuracy, val_loss" in str(error.value)


ACCURACY = Headline("accuracy", higher_is_better=True)
# The demo's history as measured: the over-confident second epoch has the higher loss and the higher accuracy.
DISAGREEING = [{"val_loss": 0.4786, "val_accuracy": 0.764}, {"val_loss": 0.5012, "val_accuracy": 0.795}]


def _kept_epoch(training: TrainingConfig, headline: Headline) -> int:
    stopper, _ = _stopper(*loop.selection(training, headline), patience=training.early_stopping_patience)
    for epoch, logs in enumerate(DISAGREEING):
        stopper.on_epoch_end(epoch, logs)
    return int(stopper.best_epoch.numpy())


def test_by_default_the_epoch_best_at_the_task_headline_metric_is_kept():
    assert loop.selection(TrainingConfig(), ACCURACY) == ("val_accuracy", "max")
    assert _kept_epoch(TrainingConfig(), ACCURACY) == 1  # the accurate epoch, though its loss is higher
    assert loop.selection(TrainingConfig(), Headline("perplexity", False, "mlm_perplexity")) == (
        "val_mlm_perplexity", "min")


def test_val_loss_stays_available_by_config():
    training = TrainingConfig(early_stopping_monitor="val_loss")
    assert loop.selection(training, ACCURACY) == ("val_loss", "auto")
    assert _kept_epoch(training, ACCURACY) == 0
