"""``verbose``: progress of long fits through the package's ``sklearn_normpen`` logger.

The engine always logs (``_cv``: one INFO line per finished fold; ``_path``: a DEBUG line
every 10 path points; the estimators: an INFO line per full-data path and per resample);
the logger is silent unless enabled. ``verbose`` enables it for the duration of one
``fit``: ``verbose=1`` at INFO, ``verbose>=2`` at DEBUG. When no handler would show the
records (only the package's ``NullHandler`` up to the root), a temporary stderr handler is
attached, so the lines appear in a terminal and in a notebook; an application that
configured logging keeps its own handlers and format. ``verbose=0`` changes nothing.
"""
import functools
import logging
import sys
import time
from contextlib import contextmanager

LOGGER = logging.getLogger("sklearn_normpen")


def _has_visible_handler(logger):
    """Whether a record of ``logger`` reaches a handler other than a ``NullHandler``."""
    while logger is not None:
        if any(not isinstance(h, logging.NullHandler) for h in logger.handlers):
            return True
        if not logger.propagate:
            return False
        logger = logger.parent
    return False


@contextmanager
def progress(verbose):
    """Enable the package's progress messages for the ``with`` block when ``verbose``."""
    if not verbose:
        yield
        return
    level = logging.INFO if verbose == 1 else logging.DEBUG
    old_level = LOGGER.level
    handler = None
    if not _has_visible_handler(LOGGER):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[sklearn_normpen] %(message)s"))
        LOGGER.addHandler(handler)
    LOGGER.setLevel(level)
    try:
        yield
    finally:
        LOGGER.setLevel(old_level)
        if handler is not None:
            LOGGER.removeHandler(handler)


def with_progress(fit):
    """Decorate an estimator's ``fit``: :func:`progress` at the estimator's ``verbose``."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        with progress(getattr(self, "verbose", 0)):
            return fit(self, *args, **kwargs)

    return wrapper


def log_path(what, path, start):
    """One INFO line for a finished full-data path (``start``: its ``perf_counter``)."""
    if LOGGER.isEnabledFor(logging.INFO):
        stop = f", stopped early ({path.stop_reason})" if path.stop_reason else ""
        LOGGER.info("%s: %d alphas solved in %.2fs%s", what, len(path.alphas),
                    time.perf_counter() - start, stop)
