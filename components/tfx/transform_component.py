"""TFX's Transform plus one optional input: the base model whose vocabulary a fine-tuning run must tokenize with.

The stock component takes no model, so its preprocessing_fn could not know which pretrained model the pipeline
resolved. This one takes it as a channel (MLMD records it, and a newly blessed base model re-runs Transform), and
its executor hands the model's backbone preset to the preprocessing_fn as base_model.preset in custom_config, the
same key a keras-hub preset arrives under. Without that input it is the stock Transform.
"""
import json
from typing import Optional

from tfx import v1 as tfx
from tfx.components.transform import executor as transform_executor
from tfx.dsl.components.base import executor_spec
from tfx.types import channel, standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter
from tfx.utils import path_utils

from components.tfx.base_model import handed_over

BASE_MODEL_KEY = "base_model"


class _Spec(standard_component_specs.TransformSpec):
    INPUTS = {**standard_component_specs.TransformSpec.INPUTS,
              BASE_MODEL_KEY: ChannelParameter(type=standard_artifacts.Model, optional=True)}


class Executor(transform_executor.Executor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:  # noqa: N802  (TFX's name)
        input_dict = dict(input_dict)
        base_models = input_dict.pop(BASE_MODEL_KEY, None)
        if base_models is not None:  # wired: an empty list means the resolver found no blessed model
            key = standard_component_specs.CUSTOM_CONFIG_KEY
            model_dir = (path_utils.serving_model_path(base_models[0].uri,
                                                       path_utils.is_old_model_artifact(base_models[0]))
                         if base_models else None)
            custom = handed_over(json.loads(exec_properties[key]), model_dir, "Transform")
            exec_properties = {**exec_properties, key: json.dumps(custom)}
        super().Do(input_dict, output_dict, exec_properties)


class Transform(tfx.components.Transform):
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(self, base_model: Optional[channel.BaseChannel] = None, **kwargs):
        """`base_model`: a channel of the Model to tokenize like; the rest as tfx.components.Transform takes."""
        super().__init__(**kwargs)
        if base_model is not None:  # the stock __init__ builds the stock spec; this one adds the input slot
            spec = self.spec
            self.spec = _Spec(**spec.exec_properties, **spec.inputs, **spec.outputs, **{BASE_MODEL_KEY: base_model})
