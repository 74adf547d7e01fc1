"""Network parts the task kinds share: backbones, CRF, generation, losses, pretrained presets, metrics."""
