"""What the layer (``polling.PollingResource``) relies on in crhelper beyond its public API, as data.

crhelper is pinned in ``requirements.txt``. ``tests/handler/test_crhelper_contract.py`` checks each entry
against the installed crhelper's source (each method's parameters, the attributes its ``__init__`` sets,
the calls in each method's body) and against ``PollingResource`` (it overrides exactly :data:`OVERRIDES`,
extends exactly :data:`EXTENDS`, uses no other private attribute of crhelper's than :data:`ATTRIBUTES`),
so an upgrade that changes one of them fails there rather than in a stack.
"""

from __future__ import annotations

#: crhelper's class the layer subclasses.
BASE = "crhelper.resource_helper.CfnResource"

#: The private methods of ``CfnResource`` the layer replaces, with crhelper's parameters (the overrides keep
#: them: crhelper calls them with these).
OVERRIDES: dict[str, tuple[str, ...]] = {
    "_log_setup": ("self", "event", "context"),
    "_polling_init": ("self", "event"),
    "_put_rule": ("self",),
    "_add_permission": ("self", "rule_arn"),
    "_remove_permission": ("self", "sid"),
    "_put_targets": ("self", "func_name"),
    "_remove_targets": ("self", "rule_arn"),
    "_delete_rule": ("self", "rule_arn"),
    "_remove_polling": ("self",),
    "_set_timeout": ("self",),
    "_timeout": ("self",),
    "_send": ("self", "status", "reason", "send_response"),
    # public, but replaced: its random part becomes the RequestId's (one answer for duplicate deliveries)
    "generate_physical_id": ("self", "event"),
}

#: The methods whose crhelper version the layer's own still runs (``CfnResource.<name>(self, ...)``):
#: ``__call__`` around crhelper's, the others from their overrides.
EXTENDS = ("__call__", "_log_setup", "_polling_init", "_remove_polling")

#: The calls inside crhelper the overrides depend on, as (caller, callee), both methods of ``CfnResource``:
#: an override is of no use once crhelper no longer makes the call that reaches it.
CALLS = (
    ("__call__", "_log_setup"),
    ("__call__", "_crhelper_init"),
    ("__call__", "_polling_init"),
    ("__call__", "_send"),
    ("_crhelper_init", "_set_timeout"),
    ("_polling_init", "_setup_polling"),
    ("_polling_init", "_remove_polling"),
    ("_setup_polling", "_put_rule"),
    ("_setup_polling", "_add_permission"),
    ("_setup_polling", "_put_targets"),
    ("_remove_polling", "_remove_targets"),
    ("_remove_polling", "_remove_permission"),
    ("_remove_polling", "_delete_rule"),
    ("_cfn_response", "_send"),
    ("_cfn_response", "generate_physical_id"),
)

#: crhelper's private attributes the layer reads or sets, each assigned in ``CfnResource.__init__``.
ATTRIBUTES = (
    "_event",
    "_context",
    "_response_url",
    "_ssl_verify",
    "_polling_interval",
    "_send_response",
    "_timer",
    "_poll_create_func",
    "_poll_update_func",
    "_poll_delete_func",
)

#: The keyword arguments of ``CfnResource.__init__`` the layer sets (its defaults differ from crhelper's).
INIT_KEYWORDS = ("log_level", "boto_level", "polling_interval", "sleep_on_delete")

#: The module ``crhelper.resource_helper`` makes its pre-timeout timer with (``threading.Timer`` in
#: ``_set_timeout``): the layer's own ``_set_timeout`` makes it through the same module attribute, which
#: the lifecycle driver replaces to run the timer on simulated time.
TIMER_MODULE = "threading"
