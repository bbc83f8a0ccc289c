"""Base class of the vectorised weighers and Nova's normalisation.

Each weigher gives a raw value per candidate host; the values are
normalised to [0, 1] with min-max scaling over the candidates (Nova's
``weights.normalize``: all equal → all 0), multiplied by the weigher's
multiplier and summed over the weighers. Highest total wins.
"""
import numpy as np


def normalize(values, minval=None, maxval=None):
    """Min-max scale ``values`` (1-d array) to [0, 1].

    ``minval``/``maxval`` override the observed bounds (Nova's weigher
    ``minval``/``maxval``); a zero range gives zeros.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return values
    lo = values.min() if minval is None else minval
    hi = values.max() if maxval is None else maxval
    rng = hi - lo
    if rng == 0:
        return np.zeros_like(values)
    return (values - lo) / rng


class BaseWeigher:
    """One Nova weigher over an index array of candidate hosts."""

    minval = None
    maxval = None

    @property
    def name(self):
        return type(self).__name__

    def weight_multiplier(self):
        """The configured multiplier (0 switches the weigher off)."""
        return 1.0

    def raw_weights(self, states, idx, req):
        """Raw weights of the hosts ``idx`` (int array) → float array."""
        raise NotImplementedError

    def weigh(self, states, idx, req):
        """Normalised weights times the multiplier, or None when the multiplier is 0."""
        mult = self.weight_multiplier()
        if not mult:
            return None
        return mult * normalize(self.raw_weights(states, idx, req), self.minval, self.maxval)
