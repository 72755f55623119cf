"""scikit-learn's epoch shuffle, so that a shuffled fit visits the samples in its order.

``xorshift_shuffle(order, seed)`` permutes ``order`` in place exactly as scikit-learn's
``SequentialDataset.shuffle(seed)`` permutes its index (sklearn/utils/_seq_dataset.pyx.tp): a
Fisher-Yates shuffle drawing from the xorshift generator ``our_rand_r`` (sklearn/utils/
_random.pxd). scikit-learn calls it at the start of every epoch with the same seed, on the order
the previous epoch left, so fastsgd does the same.
"""

from numba import njit

RAND_R_MAX = 0x7FFFFFFF
DEFAULT_SEED = 1
UINT32 = 0xFFFFFFFF


@njit(cache=True, nogil=True)
def xorshift_shuffle(order, seed):
    state = seed & UINT32
    n = order.shape[0]
    for i in range(n - 1):
        if state == 0:
            state = DEFAULT_SEED
        state ^= (state << 13) & UINT32
        state ^= state >> 17
        state ^= (state << 5) & UINT32
        j = i + (state % (RAND_R_MAX + 1)) % (n - i)
        order[i], order[j] = order[j], order[i]
