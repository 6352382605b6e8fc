"""Type stubs of the Rust extension `glider._glider` (PyO3). The public API is `glider`."""

from typing import Callable, Optional

__version__: str

class GliderError(ValueError):
    """glider's error: bad input (file, column, row or setting named) or a model that
    cannot answer."""

class Table:
    """A table of fields read from DataFrame columns."""

    def __init__(
        self,
        source: str,
        columns: list[tuple[str, str, bytes, Optional[list[str]]]],
        schema_json: str,
    ) -> None: ...
    @property
    def num_rows(self) -> int: ...
    def fields(self) -> list[tuple[str, str, Optional[list[str]]]]: ...

class Model:
    """A `glider train` model directory."""

    def __init__(self, dir: str) -> None: ...
    def card_json(self) -> str: ...
    def schema_json(self) -> str: ...
    def predict_logits(self, table: Table) -> bytes: ...

def detect(
    table: Table,
    out: str,
    settings_json: str,
    seed: int,
    caller: Optional[Callable[[list[bytes], int], bytes]] = None,
    output: str = "probability",
    model_dir: Optional[str] = None,
    onnx: Optional[str] = None,
    mapping: Optional[str] = None,
    request_rows: int = 4096,
    shard: tuple[int, int] = (1, 1),
    resume: bool = False,
    quiet: bool = False,
) -> tuple[str, list[tuple[int, str]]]: ...
def default_settings() -> str: ...
def write_report(command: str, out: str) -> bool: ...
def adult_csv_gz() -> bytes: ...
def train(
    table: Table,
    out: str,
    model: str,
    schema_json: str,
    params_json: str = "{}",
    encoder_json: str = "{}",
    counts: Optional[tuple[int, int, int]] = None,
    seed: int = 0,
    quiet: bool = False,
) -> str: ...
def nid(
    table: Table,
    out: str,
    options_json: str,
    task: Optional[str] = None,
    max_categories: int = 32,
    seed: int = 0,
    top: int = 20,
    quiet: bool = False,
) -> str: ...
def default_nid_options() -> str: ...
def encode_fit(
    table: Table, interactions: list[list[str]], bins: int = 8, min_count: int | None = 10
) -> str: ...
def encode_apply(table: Table, spec_json: str) -> list[tuple[str, bytes, list[str]]]: ...
def run(
    table: Table,
    out: str,
    source: str,
    settings_json: str,
    targets: Optional[list[str]] = None,
    params_json: str = "{}",
    trials: int = 5,
    seed: int = 0,
    bins: int = 8,
    cross_min_count: int | None = 10,
    selection: str = "validation",
    counts: Optional[tuple[int, int, int]] = None,
    resume: bool = False,
    quiet: bool = False,
    cross_part: str = "auto",
) -> str: ...
def merge(dirs: list[str], out: str) -> str: ...
def cross_plan(table: Table, interactions: list[list[str]]) -> str: ...
def cross_value_counts(table: Table, plan_json: str) -> str: ...
def cross_edges(parts: list[str], bins: int) -> str: ...
def cross_tuple_counts(table: Table, plan_json: str, edges_json: str) -> str: ...
def cross_spec(
    plan_json: str, edges_json: str, parts: list[str], bins: int = 8, min_count: int | None = 10
) -> str: ...
