"""Public callers' rate limits, on a fake clock (the end-to-end check is in test_access.py)."""

from collections.abc import Iterable

import pytest
from parlant.api.authorization import Operation
from starlette.requests import Request

from agent.authorization import OperatorTokenPolicy, TooManyRequests
from agent.customer_access import CustomerKeys
from agent.rate_limits import DEFAULT_PER_MINUTE, AddressRateLimiter, client_address
from agent.secret import Secret
from tests.support.processes import OPERATOR_TOKEN, operator_headers

GUEST = Operation.CREATE_GUEST_SESSION
READ_AGENT = Operation.READ_AGENT


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(
    peer: str = "198.51.100.1", forwarded: str | None = None, headers: dict[str, str] | None = None
) -> Request:
    raw = dict(headers or {})
    if forwarded is not None:
        raw["x-forwarded-for"] = forwarded
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/sessions",
            "headers": [(k.lower().encode(), v.encode()) for k, v in raw.items()],
            "client": (peer, 51234),
        }
    )


async def allowed(limiter: AddressRateLimiter, requests: Iterable[Request], op: Operation) -> int:
    return sum([await limiter.check(r, op) for r in requests])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> AddressRateLimiter:
    return AddressRateLimiter(trusted_proxies=0, clock=clock)


async def test_each_operation_has_its_own_limit_per_address(limiter: AddressRateLimiter) -> None:
    assert await allowed(limiter, [request()] * 15, GUEST) == 10
    assert await allowed(limiter, [request()] * 40, READ_AGENT) == 30
    assert await allowed(limiter, [request("198.51.100.2")] * 15, GUEST) == 10
    assert await allowed(limiter, [request()] * 70, Operation.READ_SESSION) == 60
    assert await allowed(limiter, [request()] * 250, Operation.LIST_EVENTS) == 240
    assert await allowed(limiter, [request()] * 40, Operation.CREATE_CUSTOMER_EVENT) == 30


async def test_other_operations_share_one_default_budget(limiter: AddressRateLimiter) -> None:
    assert await allowed(limiter, [request()] * 60, Operation.ACCESS_INTEGRATED_UI) == 60
    assert await allowed(limiter, [request()] * 60, Operation.ACCESS_API_DOCS) == 40
    assert DEFAULT_PER_MINUTE == 100
    assert await limiter.check(request(), GUEST)


async def test_the_window_moves_rather_than_resets(
    limiter: AddressRateLimiter, clock: FakeClock
) -> None:
    for second in range(10):  # one guest session per second, t = 0 … 9
        clock.now = 1000.0 + second
        assert await limiter.check(request(), GUEST)
    clock.now = 1059.0
    assert not await limiter.check(request(), GUEST)
    clock.now = 1060.5  # only the hit of t = 0 has left the window
    assert await limiter.check(request(), GUEST)
    assert not await limiter.check(request(), GUEST)
    clock.now = 1061.5
    assert await limiter.check(request(), GUEST)
    clock.now = 1200.0
    assert await allowed(limiter, [request()] * 15, GUEST) == 10


async def test_refused_hits_are_not_counted(limiter: AddressRateLimiter, clock: FakeClock) -> None:
    assert await allowed(limiter, [request()] * 10, GUEST) == 10
    for second in range(1, 60):  # knocking once a second for the rest of the minute
        clock.now = 1000.0 + second
        assert not await limiter.check(request(), GUEST)
    clock.now = 1060.0
    assert await allowed(limiter, [request()] * 15, GUEST) == 10


async def test_idle_addresses_are_forgotten(limiter: AddressRateLimiter, clock: FakeClock) -> None:
    for n in range(10_000):
        assert await limiter.check(request(f"10.{n // 256 % 256}.{n % 256}.1"), READ_AGENT)
    assert len(limiter) == 10_000  # all within the window: none can go yet
    clock.now += 61
    assert await limiter.check(request("192.0.2.9"), READ_AGENT)
    assert len(limiter) == 1


async def test_memory_follows_the_addresses_active_in_the_window(clock: FakeClock) -> None:
    limiter = AddressRateLimiter(trusted_proxies=0, clock=clock)
    per_second, largest = 100, 0
    for n in range(per_second * 60 * 5):  # a new address every 10 ms for five minutes
        clock.now = 1000.0 + n / per_second
        assert limiter.hit(f"address-{n}", READ_AGENT)
        largest = max(largest, len(limiter))
    assert largest <= 2 * per_second * 60 + 1


@pytest.mark.parametrize(
    ("trusted_proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "198.51.100.1"),
        (1, None, "198.51.100.1"),
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "10.0.0.2", "198.51.100.1"),  # fewer entries than proxies: not set by them
    ],
)
def test_the_client_address_is_one_the_client_cannot_forge(
    trusted_proxies: int, forwarded: str | None, expected: str
) -> None:
    assert client_address(request(forwarded=forwarded), trusted_proxies) == expected


async def test_a_forged_forwarded_for_gets_no_fresh_budget(limiter: AddressRateLimiter) -> None:
    forged = [request(forwarded=f"203.0.113.{n}") for n in range(15)]
    assert await allowed(limiter, forged, GUEST) == 10


async def test_behind_a_proxy_each_forwarded_client_has_its_own_budget(clock: FakeClock) -> None:
    limiter = AddressRateLimiter(trusted_proxies=1, clock=clock)
    proxy = "10.0.0.2"
    alice = [request(proxy, forwarded="203.0.113.5")] * 15
    bob = [request(proxy, forwarded="6.6.6.6, 203.0.113.6")] * 15
    assert await allowed(limiter, alice, GUEST) == 10
    assert await allowed(limiter, bob, GUEST) == 10
    alice_forging = [request(proxy, forwarded=f"6.6.6.{n}, 203.0.113.5") for n in range(5)]
    assert await allowed(limiter, alice_forging, GUEST) == 0


async def test_operators_are_never_limited_and_the_public_is() -> None:
    policy = OperatorTokenPolicy(Secret(OPERATOR_TOKEN), CustomerKeys(b"k" * 32))
    assert isinstance(policy.default_limiter, AddressRateLimiter)
    operator = request(headers=operator_headers())
    for _ in range(50):
        await policy.authorize(operator, GUEST)
    canary = "canary-3c1f0a9e"
    public = request(headers={"x-customer-token": canary})
    for _ in range(10):
        await policy.authorize(public, GUEST)
    with pytest.raises(TooManyRequests) as refused:
        await policy.authorize(public, GUEST)
    assert canary not in str(refused.value)
    await policy.authorize(operator, GUEST)


def test_limits_below_one_hit_are_refused() -> None:
    with pytest.raises(ValueError):
        AddressRateLimiter(trusted_proxies=0, limits={GUEST: 0})
