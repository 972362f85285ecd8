"""HTML from the Jinja2 templates in ``pipelines/core/outputs/templates/``.

Every value a template prints is escaped (autoescape), so a partner's text can never
become markup; a name a template uses but is not given fails loudly instead of
printing nothing.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

_ENVIRONMENT = Environment(
    loader=PackageLoader("pipelines.core.outputs", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(template: str, **values: object) -> str:
    """The template named ``template`` filled with ``values``."""
    return _ENVIRONMENT.get_template(template).render(**values)
