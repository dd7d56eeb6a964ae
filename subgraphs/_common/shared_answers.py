"""An event's answer executed once for every subscription that would get the very same one.

The router carries all the subscriptions of one caller on one WebSocket (every anonymous viewer of a shop's
stock alike), so a fan-out is mostly subscriptions of one connection with the same operation and variables.
Executing their selection once per event, instead of once per subscriber, was a third of the shop's CPU in a
fan-out to 1,000 subscribers.

Sharing is opt-in per event payload (`share`): a payload object yielded to every subscriber of an event and
never changed afterwards. The answer is shared only between subscriptions of the same connection context (the
same caller: permissions cannot differ), the same parsed operation (one object for one query text, through
Strawberry's ParserCache) and equal variables; an answer with errors, or one that would be awaited, is not
shared: each subscriber executes its own.
"""

import weakref
from typing import Any, TypeVar

import orjson
from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

T = TypeVar("T")
_Key = tuple[int, int, bytes]  # ids of the connection's context and of the operation, the variables' JSON
# Each shared payload's answers: key -> (context, operation, answer), the first two held so that their ids in
# the key cannot be those of other objects while the payload lives.
_Answers = dict[_Key, tuple[object, object, ExecutionResult]]
# The shared payloads by id (GraphQL types are unhashable dataclasses), each entry gone with its payload.
_ANSWERS: dict[int, tuple["weakref.ref[Any]", _Answers]] = {}


def share(payload: T) -> T:
    """`payload`, its answer executed once per connection, operation and variables from now on."""
    key = id(payload)
    if key not in _ANSWERS:
        _ANSWERS[key] = (weakref.ref(payload, lambda _: _ANSWERS.pop(key, None)), {})
    return payload


def _answers_of(payload: Any) -> _Answers | None:
    entry = _ANSWERS.get(id(payload))
    return entry[1] if entry is not None and entry[0]() is payload else None


class SharedAnswers(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, executing a shared payload's event once per connection, operation and
    variables (the schema's `execution_context_class`)."""

    _answers: _Answers | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, SharedAnswers)  # a copy of this one
        executor._answers = _answers_of(payload)
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        answers = self._answers
        key = self._answer_key() if answers is not None else None
        if answers is None or key is None:
            return super().execute_operation(serially)
        found = answers.get(key)
        if found is not None:
            return ExecutionResult(found[2].data)
        answer = super().execute_operation(serially)
        if isinstance(answer, ExecutionResult) and not answer.errors and not answer.extensions:
            answers[key] = (self.context_value, self.operation, answer)
        return answer

    def _answer_key(self) -> _Key | None:
        try:
            variables = orjson.dumps(self.variable_values.coerced, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # a value JSON cannot tell apart from another: not shared
            return None
        return id(self.context_value), id(self.operation), variables
