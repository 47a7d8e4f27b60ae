"""Variables panel: the variables the template uses and the samples that lack a value."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from tmplstudio.policy.engine import Evaluation


class VariablesPanel(OptionList):
    """One row per variable; ``a`` (or enter) adds a missing one to every sample."""

    BINDINGS = [
        Binding("a", "add_missing", "Add to samples"),
        Binding("enter", "add_missing", "Add to samples", show=False),
    ]

    class AddVariable(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.variables: list[str] = []
        self.missing: dict[str, list[str]] = {}
        self._shown: tuple | None = None

    def show(self, evaluation: Evaluation | None) -> None:
        variables = list(evaluation.variables) if evaluation is not None else []
        missing = {k: list(v) for k, v in evaluation.missing.items()} if evaluation is not None else {}
        samples = list(evaluation.renders) if evaluation is not None else []
        key = (tuple(variables), tuple((k, tuple(v)) for k, v in sorted(missing.items())), tuple(samples))
        if key == self._shown:
            return
        self._shown = key
        self.variables, self.missing = variables, missing
        highlighted = self.highlighted_variable
        options: list[Option] = []
        if not variables:
            options.append(Option(Content.styled("The template uses no variables.", "$text-muted"), disabled=True))
        for name in variables:
            lacking = missing.get(name)
            if lacking:
                prompt = Content.assemble(
                    ("✖ ", "$text-error"), (name, "bold"), ("  missing in ", "$text-muted"), ", ".join(lacking), ("  a: add", "$text-muted")
                )
            else:
                where = {0: "no samples", 1: "in the sample"}.get(len(samples), f"in all {len(samples)} samples")
                prompt = Content.assemble(("✔ ", "$text-success"), (name, "bold"), (f"  {where}", "$text-muted"))
            options.append(Option(prompt, id=f"v:{name}"))
        self.set_options(options)
        if highlighted in variables:
            self.highlighted = self.get_option_index(f"v:{highlighted}")

    @property
    def highlighted_variable(self) -> str | None:
        if self.highlighted is None:
            return None
        option_id = self.get_option_at_index(self.highlighted).id or ""
        return option_id[2:] if option_id.startswith("v:") else None

    def action_add_missing(self) -> None:
        name = self.highlighted_variable
        if name is None:
            return
        if name not in self.missing:
            self.app.notify(f"Every sample already has “{name}”.", timeout=3)
            return
        self.post_message(self.AddVariable(name))
