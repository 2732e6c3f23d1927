"""Documentation shared by several docstrings, written once.

A docstring names a shared block by a line that holds only ``{name}``;
:func:`fill_doc` replaces that line with the block, indented as the line
is. The rendered docstring (``help``, Sphinx, doctests) reads as if the
block had been written out in place.
"""

from __future__ import annotations

import inspect
import re
import textwrap

_PLACEHOLDER = re.compile(r"^([ \t]*)\{(\w+)\}[ \t]*$", re.MULTILINE)


def fill_doc(**blocks):
    """A decorator that writes the named ``blocks`` into a docstring.

    Parameters
    ----------
    **blocks : str
        Text of each block, by name; indented as written, the common
        leading whitespace removed.

    Returns
    -------
    decorate : callable
        Sets the ``__doc__`` of the function or class it decorates (and of
        the methods a class defines), every ``{name}`` line replaced; an
        unknown name raises ``KeyError`` at import time.

    Examples
    --------
    >>> from sklearn_kd._docstrings import fill_doc
    >>> @fill_doc(x="x : float\\n    The input.")
    ... def double(x):
    ...     '''Twice ``x``.
    ...
    ...     Parameters
    ...     ----------
    ...     {x}
    ...     '''
    >>> print(double.__doc__.strip())  # doctest: +NORMALIZE_WHITESPACE
    Twice ``x``.
        Parameters
        ----------
        x : float
            The input.
    """
    blocks = {
        name: textwrap.dedent(text).strip("\n") for name, text in blocks.items()
    }

    def replace(match):
        indent, name = match.groups()
        return textwrap.indent(blocks[name], indent)

    def fill(documented):
        if documented.__doc__:  # None under python -OO
            documented.__doc__ = _PLACEHOLDER.sub(replace, documented.__doc__)

    def decorate(documented):
        fill(documented)
        if isinstance(documented, type):
            for member in vars(documented).values():
                method = getattr(member, "__func__", member)  # class/static
                if inspect.isfunction(method):
                    fill(method)
        return documented

    return decorate
