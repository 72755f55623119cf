"""The compiled kernels the estimators call, imported on first use.

Importing the estimators then imports neither numba nor fastsgd's kernel modules (about 0.2 s
and numba's start-up); the first fit does. ``_kernels.plain_model_visits`` and the like are the
kernels themselves (cached here after the first look-up).
"""

from fastsgd._lazy import attribute_loader

_WHERE = {
    **dict.fromkeys(
        (
            "LinearSGDSettings", "LinearSGDState", "linear_sgd_finish", "optimal_init",
            "per_weight_block_visits", "per_weight_model_visits", "plain_block_visits",
            "plain_model_visits", "scaled_block_visits", "scaled_model_visits", "weight_work",
        ),
        "fastsgd.kernels.linear",
    ),
    "logistic_epoch": "fastsgd.kernels.logistic",
    "xorshift_shuffle": "fastsgd.kernels.shuffle",
    **dict.fromkeys(
        ("net_settings", "unchecked_batched_epoch", "unchecked_general_epoch",
         "unchecked_plain_epoch"),
        "fastsgd.kernels.net",
    ),
    "logistic_epoch_hogwild": "fastsgd.parallel.hogwild",
    "net_sgd_epoch_hogwild": "fastsgd.parallel.hogwild",
}  # fmt: skip


__getattr__ = attribute_loader(globals(), _WHERE)
