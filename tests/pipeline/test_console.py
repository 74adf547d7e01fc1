"""What the CLI prints is UTF-8 whatever the locale says, so Chinese labels, texts and entities come out as written."""
import os
import subprocess
import sys

import pytest

from tests import ROOT

PRINTS = ("from pipeline import console; from components.core.log import progress; console.setup(); "
          "print('{\"text\": \"张伟在北京工作\"}'); progress.info('labels: 正面 8, 负面 4')")


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "utf-8"])
def test_chinese_is_printed_as_utf8_on_any_console(encoding):
    result = subprocess.run([sys.executable, "-c", PRINTS], capture_output=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": ROOT, "PYTHONIOENCODING": encoding})
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    assert result.stdout.decode("utf-8") == '{"text": "张伟在北京工作"}\n'
    assert result.stderr.decode("utf-8").endswith("labels: 正面 8, 负面 4\n")
