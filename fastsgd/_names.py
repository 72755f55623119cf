"""The names of the settings the kernels take as integer codes, in code order, and the parallel
strategies: plain Python, so that the estimators can declare their parameters without importing
numba or the kernels (``fastsgd.kernels`` takes its codes from here)."""

ACTIVATIONS = ("logistic", "tanh", "relu", "identity")  # the net's hidden activation g1
LOSSES = ("log_loss", "squared_error")  # the net's loss
OUTPUTS = ("logistic", "softmax", "identity")  # the net's output units g2
LINEAR_LOSSES = (
    "log_loss", "squared_error", "hinge", "modified_huber", "squared_hinge", "perceptron",
    "huber", "epsilon_insensitive", "squared_epsilon_insensitive",
)  # fmt: skip
CLASSIFICATION_LOSSES = ("hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron")
REGRESSION_LOSSES = ("squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive")
LEARNING_RATES = ("constant", "optimal", "invscaling", "adaptive")
STRATEGIES = ("average", "hogwild")
