"""The metric a task kind is judged by, named once: the Evaluator gates the push on it, training keeps the epoch that
is best at it (unless training.early_stopping_monitor names another), and the run summary and `status` report it."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class Headline:
    name: str  # as TFMA reports it (the push gate's metric)
    higher_is_better: bool
    keras_name: str = ""  # as Keras logs it during fit, without "val_"; default: `name`

    @property
    def monitor(self) -> str:
        """The eval-split metric in Keras' logs that model selection and early stopping follow."""
        return f"val_{self.keras_name or self.name}"


LOSS = Headline("loss", higher_is_better=False)  # what a loop without a task's metric selects by
