"""What the driver reads from a template: intrinsic functions resolved against a stack, the order of
resources (dependencies, waves), and property values as a custom resource receives them."""

from __future__ import annotations

import re
from typing import Any, Protocol


class Scope(Protocol):
    """What intrinsic functions resolve against: a stack's identity, template, deployed resources (each
    with ``physical_id`` and ``attributes``) and the exports its account and Region see.
    :class:`.stack.Stack` is one."""

    name: str
    stack_id: str
    account_id: str
    region: str
    template: dict[str, Any]
    resources: dict[str, Any]

    @property
    def exports(self) -> dict[str, Any]: ...


CUSTOM_PREFIX = "Custom::"


class DriverError(Exception):
    """The template or the simulation cannot be carried out (not a resource failure)."""


class Rejected(DriverError):
    """A template value CloudFormation itself refuses: the resource fails with this message and the stack
    rolls back (no request is sent for it)."""


def closure(graph: dict[str, set[str]], start: str) -> set[str]:
    """Everything ``start`` depends on, directly or not."""
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        item = todo.pop()
        if item not in seen:
            seen.add(item)
            todo.extend(graph.get(item, ()))
    return seen


def _references(value: Any) -> set[str]:
    """Logical ids named by Ref, Fn::GetAtt and Fn::Sub anywhere inside a value."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else arg.split(".")[0])
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found.update(token.split(".")[0] for token in re.findall(r"\$\{([^}!][^}]*)\}", text))
                if not isinstance(arg, str):
                    found |= _references(arg[1])
            else:
                found |= _references(arg)
    return found


def dependencies(template: dict[str, Any]) -> dict[str, set[str]]:
    """For each resource, the resources it refers to (Ref, Fn::GetAtt, Fn::Sub) or DependsOn."""
    resources = template.get("Resources", {})
    graph: dict[str, set[str]] = {}
    for logical_id, definition in resources.items():
        found = _references(definition.get("Properties", {}))
        depends = definition.get("DependsOn", [])
        found.update([depends] if isinstance(depends, str) else depends)
        graph[logical_id] = found & set(resources)
    return graph


def waves(template: dict[str, Any]) -> list[list[str]]:
    """Resources in dependency order, grouped in waves CloudFormation could run in parallel."""
    graph = dependencies(template)
    done: set[str] = set()
    order: list[list[str]] = []
    while len(done) < len(graph):
        wave = sorted(r for r, deps in graph.items() if r not in done and deps <= done)
        if not wave:
            raise DriverError(f"Circular dependency among {sorted(set(graph) - done)}")
        order.append(wave)
        done.update(wave)
    return order


def stringify(value: Any) -> Any:
    """CloudFormation passes every scalar property value to a custom resource as a string."""
    if isinstance(value, dict):
        return {k: stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _NoValue:
    """``Ref: AWS::NoValue``: the list item or property it is given for is left out."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


def resolve(stack: Scope, value: Any) -> Any:
    """Resolve intrinsic functions against the stack's deployed resources, parameters and exports.

    ``Fn::If`` picks a branch by a condition of the template's ``Conditions`` section; an item or property
    that resolves to ``AWS::NoValue`` is left out of its list or object, as CloudFormation does
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/pseudo-parameter-reference.html).
    """
    if isinstance(value, list):
        return [item for item in (resolve(stack, v) for v in value) if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return _ref(stack, arg)
        if key == "Fn::If":
            name, if_true, if_false = arg
            return resolve(stack, if_true if condition(stack, name) else if_false)
        if key == "Fn::GetAtt":
            name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return _get_att(stack, name, attribute)
        if key == "Fn::Join":
            return str(arg[0]).join(str(v) for v in resolve(stack, arg[1]))
        if key == "Fn::Select":
            return resolve(stack, arg[1])[int(resolve(stack, arg[0]))]
        if key == "Fn::Split":
            return str(resolve(stack, arg[1])).split(arg[0])
        if key == "Fn::Sub":
            return _sub(stack, arg)
        if key == "Fn::ImportValue":
            export = resolve(stack, arg)
            if export not in stack.exports:
                raise DriverError(f"No export named {export} in {stack.account_id} {stack.region}")
            return stack.exports[export]
        if key.startswith("Fn::"):
            raise DriverError(f"{key} is not supported by the lifecycle driver")
    resolved = {k: resolve(stack, v) for k, v in value.items()}
    return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def condition(stack: Scope, name: str) -> bool:
    """The value of the template's condition ``name`` (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition)."""
    conditions = stack.template.get("Conditions", {})
    if name not in conditions:
        raise DriverError(f"{stack.name}: no condition named {name}")
    return _condition_value(stack, conditions[name])


def _condition_value(stack: Scope, value: Any) -> bool:
    ((key, arg),) = value.items()
    if key == "Condition":
        return condition(stack, arg)
    if key == "Fn::Equals":
        left, right = (stringify(resolve(stack, v)) for v in arg)
        return bool(left == right)
    if key == "Fn::Not":
        return not _condition_value(stack, arg[0])
    if key == "Fn::And":
        return all(_condition_value(stack, v) for v in arg)
    if key == "Fn::Or":
        return any(_condition_value(stack, v) for v in arg)
    raise DriverError(f"{key} is not a condition function the lifecycle driver supports")


def _pseudo(stack: Scope) -> dict[str, str]:
    return {
        "AWS::Region": stack.region,
        "AWS::AccountId": stack.account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack.name,
        "AWS::StackId": stack.stack_id,
        "AWS::NoValue": "",
    }


def _ref(stack: Scope, name: str) -> Any:
    pseudo = _pseudo(stack)
    if name == "AWS::NoValue":
        return NO_VALUE
    if name in pseudo:
        return pseudo[name]
    if name in stack.template.get("Parameters", {}):
        parameter = stack.template["Parameters"][name]
        default = parameter.get("Default", "")
        if parameter.get("Type") == "CommaDelimitedList":  # Ref gives the list
            return str(default).split(",")
        return default
    if name not in stack.resources:
        raise DriverError(f"{stack.name}: Ref to {name}, which is not deployed (yet)")
    return stack.resources[name].physical_id


def _get_att(stack: Scope, name: str, attribute: str) -> Any:
    if name not in stack.resources:
        raise DriverError(f"{stack.name}: GetAtt of {name}, which is not deployed (yet)")
    attributes = stack.resources[name].attributes
    if attribute not in attributes:
        raise DriverError(f"{stack.name}: {name} has no attribute {attribute} (has {sorted(attributes)})")
    return attributes[attribute]


def _sub(stack: Scope, arg: Any) -> str:
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], resolve(stack, arg[1]))

    def replace(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith("!"):
            return "${" + token[1:] + "}"
        if token in variables:
            return str(variables[token])
        if "." in token:
            return str(_get_att(stack, *token.split(".", 1)))
        value = _ref(stack, token)
        return "" if value is NO_VALUE else str(value)

    return re.sub(r"\$\{([^}]+)\}", replace, text)
