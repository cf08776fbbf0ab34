"""The pickle module ``torch.save`` and ``torch.load`` use for Kiln's models.

``torch.save`` pickles with ``pickle_module.Pickler``; cloudpickle's own
``Pickler`` name is the standard library's class, so this module exposes
``CloudPickler`` under that name. Classes defined in ``__main__`` or a
notebook are then saved by value. Loading is plain unpickling.
"""

from __future__ import annotations

from pickle import Unpickler, load, loads

from cloudpickle import CloudPickler as Pickler
from cloudpickle import dump, dumps

__all__ = ["Pickler", "Unpickler", "dump", "dumps", "load", "loads"]
