"""Plot helpers shared by the chapters."""

from __future__ import annotations

import re

_CDN_LINK = re.compile(
    r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">\s*'
)


def animation_html(anim, *, default_mode="once"):
    """A matplotlib animation as self-contained HTML that plays on a static site.

    ``Animation.to_jshtml`` links Font Awesome 4 from a CDN for its buttons; the
    book's theme already serves Font Awesome itself, and the site must render
    without internet access, so the link is dropped.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
    default_mode : {"once", "loop", "reflect"}, default="once"

    Returns
    -------
    IPython.display.HTML
    """
    from IPython.display import HTML

    return HTML(_CDN_LINK.sub("", anim.to_jshtml(default_mode=default_mode)))
