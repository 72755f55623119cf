"""The command line: the README's main job must run and report what it promises."""

import re

from fastsgd.cli import main


def test_demo_reports_accuracy_loss_curve_and_speedup(capsys):
    assert main(["demo", "--epochs", "3", "--reference-samples", "300"]) == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert accuracy > 0.83
    assert len(re.findall(r"^\s+\d+\s+0\.\d+$", out, flags=re.M)) == 3  # loss curve rows
    speedup = float(re.search(r"(\d+)x faster", out).group(1))
    assert speedup > 1
