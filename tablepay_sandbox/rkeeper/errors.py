"""RK7 statuses and error numbers. [V]: seen in sources; [I]: the simulator's own choice."""

from __future__ import annotations

OK = "Ok"
NO_CHANGES = "No changes"
PARSE_ERROR = "Query Parse Error"
BAD_PARAMS = "Bad Query Parameters"
EXEC_ERROR = "Query Executing Error"

# Numbers for the two request-level statuses: no source shows one, so these are ours [I].
# Clients should branch on Status for those.
E_PARSE = 1  # [I]
E_BAD_PARAMS = 2  # [I]
E_VISIT_CLOSED = 2128  # [V] "Визит N закрыт!"
E_VISIT_LOCKED = 2129  # [V] CloseVisit while an order of the visit is locked
E_ORDER_LOCKED = 2219  # [V] order locked by another lock key
E_NOT_ENOUGH_MONEY = 3373  # [V] payments do not match the unpaid sum
E_NO_GUESTS = 3444  # [V] guest count cannot be zero
E_NOT_FOUND_IN = 3020  # [I] number for the [V] text "Не найден элемент N в коллекции X"
E_GUID_EXISTS = 3021  # [I] CreateOrder with a guid that already exists
E_ORDER_NOT_FOUND = 3022  # [I] GetOrder/SaveOrder/PayOrder of an unknown order
E_UNPAID_ORDERS = 3023  # [I] CloseVisit while an order of the visit has unpaid dishes


class RKError(Exception):
    """A command's failure: becomes Status/ErrorText/RK7ErrorN on the result."""

    def __init__(self, status: str, text: str, number: int) -> None:
        super().__init__(text)
        self.status, self.text, self.number = status, text, number


def bad_params(text: str) -> RKError:
    return RKError(BAD_PARAMS, text, E_BAD_PARAMS)


def executing(number: int, text: str) -> RKError:
    return RKError(EXEC_ERROR, text, number)


def not_found_in(key: str, collection: str) -> RKError:
    return executing(E_NOT_FOUND_IN, f"Не найден элемент {key} в коллекции {collection}")


def visit_closed(visit_id: int) -> RKError:
    return executing(E_VISIT_CLOSED, f"Визит {visit_id} закрыт!")
