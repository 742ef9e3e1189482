"""Loaded by scripts/contract (SCHEMATHESIS_HOOKS) before schemathesis runs.

Hypothesis describes each filter function for its own reprs by parsing the
source file the function is in; for schemathesis's 200 KB coverage module
CPython 3.11's parser raises "SystemError: AST constructor recursion depth
mismatch" (a bug of that Python, not of the API under test), which
schemathesis reports as an error of whichever operation it was covering.
The description only names the function in a repr, so a plain name does.
"""

try:
    from hypothesis.internal import lambda_sources

    def _plain_description(f):
        return getattr(f, "__name__", "lambda")

    lambda_sources.lambda_description = _plain_description
except Exception:  # a later Hypothesis may have moved it; nothing to fix then
    pass
