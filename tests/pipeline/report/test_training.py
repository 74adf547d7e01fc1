"""The training view reads epochs back from TensorBoard event files as Keras' callback writes them."""
import keras
import numpy as np

from components.training.progress import ProgressLogger
from pipeline.report import training


def test_epochs_seconds_and_throughput_come_back_from_a_real_fit(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = np.ones((32, 3), "float32"), np.ones((32, 1), "float32")
    callbacks = [ProgressLogger(steps_per_epoch=4, epochs=3, examples_per_step=8),
                 keras.callbacks.TensorBoard(log_dir=str(tmp_path), update_freq="epoch")]
    history = model.fit(x, y, batch_size=8, epochs=3, validation_data=(x, y), verbose=0, callbacks=callbacks)
    curves = training.read(str(tmp_path))
    assert curves.epochs == 3 and curves.metrics() == ["loss", "mae"]
    assert np.allclose(curves.train["loss"], history.history["loss"])
    assert np.allclose(curves.evaluation["mae"], history.history["val_mae"])
    assert all(s > 0 for s in curves.seconds()) and all(v > 0 for v in curves.examples_per_second())


def test_no_event_files_means_no_training_view(tmp_path):
    assert training.read(str(tmp_path)) is None and training.read(None) is None
