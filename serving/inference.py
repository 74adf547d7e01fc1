"""What TF Serving does with one request on one loaded version: Predict, Classify and Regress over its signatures.

Protocol-free (arrays in, arrays or the official result protos out), so REST, gRPC and warm-up share every check
and every message. Classify and Regress follow TF Serving with its default --enable_signature_method_name_check=false:
any signature fits whose tensors have the roles' names ("inputs" -> "classes"/"scores", "inputs" -> "outputs").
"""
from typing import Callable, Dict, Iterable, List, Mapping, Optional

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import classification_pb2, input_pb2, regression_pb2

from serving.errors import ServingError
from serving.loaded_model import LoadedModel

RunFn = Callable[[str, Mapping[str, np.ndarray]], Dict[str, np.ndarray]]

_INPUTS, _CLASSES, _SCORES, _OUTPUTS = "inputs", "classes", "scores", "outputs"


class Servable:
    """One leased version; `run` is how its signatures are called (directly, or through the batcher)."""

    def __init__(self, model: LoadedModel, run: Optional[RunFn] = None):
        self.model = model
        self._run = run or model.run

    @property
    def version(self) -> int:
        return self.model.version

    def signature(self, name: str) -> meta_graph_pb2.SignatureDef:
        if name not in self.model.signatures:
            raise ServingError(f'Serving signature key "{name}" not found.', grpc.StatusCode.FAILED_PRECONDITION)
        return self.model.signatures[name]

    def predict(self, signature_name: str, inputs: Mapping[str, np.ndarray],
                output_filter: Iterable[str] = ()) -> Dict[str, np.ndarray]:
        signature = self.signature(signature_name)
        check_input_names(inputs, signature)
        for name, array in inputs.items():
            _check_array(name, array, signature.inputs[name])
        aliases = _output_aliases(signature, list(output_filter))
        outputs = self._call(signature_name, inputs)
        return {alias: outputs[alias] for alias in aliases}

    def classify(self, signature_name: str, request_input: input_pb2.Input) -> classification_pb2.ClassificationResult:
        signature = self.signature(signature_name)
        _check_roles(signature, "classification", one_of=(_CLASSES, _SCORES), max_outputs=2)
        examples = serialized_examples(request_input)
        outputs = self._call(signature_name, {_INPUTS: examples})
        classes, scores = outputs.get(_CLASSES), outputs.get(_SCORES)
        for name, array, dtype in ((_CLASSES, classes, tf.string), (_SCORES, scores, tf.float32)):
            if array is None:
                continue
            if array.ndim != 2:
                raise ServingError(f"Expected Tensor shape: [batch_size num_classes] but got {list(array.shape)}")
            _check_output(name, array, dtype, len(examples))
        if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
            raise ServingError(f"Tensors class and score should match in dim_size(1). Got {classes.shape[1]} vs. "
                               f"{scores.shape[1]}")
        result = classification_pb2.ClassificationResult()
        for row in range(len(examples)):
            classifications = result.classifications.add()
            for column in range((classes if classes is not None else scores).shape[1]):
                label = classes[row, column].decode("utf-8", "replace") if classes is not None else ""
                classifications.classes.add(label=label, score=scores[row, column] if scores is not None else 0.0)
        return result

    def regress(self, signature_name: str, request_input: input_pb2.Input) -> regression_pb2.RegressionResult:
        signature = self.signature(signature_name)
        _check_roles(signature, "regression", one_of=(_OUTPUTS,), max_outputs=1)
        examples = serialized_examples(request_input)
        values = self._call(signature_name, {_INPUTS: examples})[_OUTPUTS]
        if values.ndim != 1 and values.shape[1:] != (1,):
            raise ServingError(f"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
                               f"{list(values.shape)}")
        _check_output(_OUTPUTS, values, tf.float32, len(examples))
        result = regression_pb2.RegressionResult()
        for value in values.reshape(-1):
            result.regressions.add(value=value)
        return result

    def _call(self, signature_name: str, inputs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        try:
            return self._run(signature_name, inputs)
        except tf.errors.OpError as e:  # e.g. inputs whose batch sizes the graph cannot combine
            error = ServingError.from_op_error(e)  # the answer goes to the client: no server paths in it
            raise ServingError(error.message.replace(self.model.path, f"{self.model.name}/{self.model.version}"),
                               error.code) from None


def check_input_names(inputs: Mapping, signature: meta_graph_pb2.SignatureDef) -> None:
    sent, expected = set(inputs), set(signature.inputs)
    if len(sent) != len(expected):
        raise ServingError(f"input size does not match signature: {len(sent)}!={len(expected)} len({_set(sent)}) != "
                           f"len({_set(expected)}). Sent extra: {_set(sent - expected)}. "
                           f"Missing but required: {_set(expected - sent)}.")
    unknown = sorted(sent - expected)
    if unknown:
        raise ServingError(f"input tensor alias not found in signature: {unknown[0]}. "
                           f"Inputs expected to be in the set {_set(expected)}.")


def serialized_examples(request_input: input_pb2.Input) -> np.ndarray:
    """The request's tf.Examples as one string tensor; with a context, each example is the context's bytes followed
    by its own, so its features win (TF Serving's InputToSerializedExampleTensor)."""
    kind = request_input.WhichOneof("kind")
    if kind == "example_list":
        examples = [e.SerializeToString() for e in request_input.example_list.examples]
    elif kind == "example_list_with_context":
        with_context = request_input.example_list_with_context
        context = with_context.context.SerializeToString()
        examples = [context + e.SerializeToString() for e in with_context.examples]
    else:
        examples = []
    if not examples:
        raise ServingError("Input is empty.")
    return np.array(examples, dtype=object)


def _check_array(name: str, array: np.ndarray, info: meta_graph_pb2.TensorInfo) -> None:
    want = tf.as_dtype(info.dtype)
    got = tf.as_dtype(array.dtype)
    if got != want:
        raise ServingError(f"Input: {name} has dtype {got.name}, but the signature expects {want.name}")
    if not info.tensor_shape.unknown_rank:
        dims = [dim.size for dim in info.tensor_shape.dim]
        if len(dims) != array.ndim or any(w not in (-1, size) for w, size in zip(dims, array.shape)):
            raise ServingError(f"Input: {name} has shape {list(array.shape)}, but the signature expects {dims} "
                               f"(-1: any size)")


def _output_aliases(signature: meta_graph_pb2.SignatureDef, output_filter: List[str]) -> List[str]:
    for i, alias in enumerate(output_filter):
        if alias not in signature.outputs:
            raise ServingError(f"output tensor alias not found in signature: {alias} Outputs expected to be in the "
                               f"set {_set(signature.outputs)}.")
        if alias in output_filter[:i]:
            raise ServingError(f"duplicate output tensor alias: {alias}")
    return output_filter or list(signature.outputs)


def _check_roles(signature: meta_graph_pb2.SignatureDef, kind: str, one_of, max_outputs: int) -> None:
    """Whether a signature fits Classify or Regress, with TF Serving's checks and messages, in its order."""
    if len(signature.inputs) != 1:
        raise ServingError("Expected one input Tensor.")
    if not 1 <= len(signature.outputs) <= max_outputs:
        expected = "one output Tensor" if max_outputs == 1 else "one or two output Tensors"
        raise ServingError(f"Expected {expected}, found {len(signature.outputs)}")
    if _INPUTS not in signature.inputs:
        raise ServingError(f'No {kind} inputs found in SignatureDef: expected an input named "{_INPUTS}", got '
                           f"{_set(signature.inputs)}", grpc.StatusCode.FAILED_PRECONDITION)
    if not any(name in signature.outputs for name in one_of):
        raise ServingError(f"Expected {kind} signature outputs to contain at least one of "
                           f"{' or '.join(repr(n) for n in one_of)}, got {_set(signature.outputs)}",
                           grpc.StatusCode.FAILED_PRECONDITION)


def _check_output(name: str, array: np.ndarray, dtype: tf.DType, batch: int) -> None:
    if tf.as_dtype(array.dtype) != dtype:
        raise ServingError(f"Expected {name} Tensor of {dtype.name}. Got: {tf.as_dtype(array.dtype).name}")
    if array.shape[0] != batch:
        raise ServingError(f"Input batch size did not match output batch size: {batch} vs. {array.shape[0]}")


def _set(names) -> str:
    return "{" + ",".join(sorted(names)) + "}"
