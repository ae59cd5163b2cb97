"""Where a new handoff goes: what the bridge knows of it, matched against the routes.

A case stays in the channel it was opened in: the route is chosen once, when its thread
is opened, and recorded with it.
"""

from dataclasses import dataclass

from slack_bridge.parlant_client import ParlantClient, ParlantSession
from slack_bridge.routes import HandoffFacts, Route, Routes


@dataclass(frozen=True)
class Placement:
    customer_name: str
    route: Route


class Placer:
    def __init__(self, parlant: ParlantClient, routes: Routes) -> None:
        self._parlant = parlant
        self._routes = routes
        self._tag_names: dict[str, str | None] = {}
        self._journey_titles: dict[str, str | None] = {}
        self._uses_journeys = any(rule.journeys for rule in routes.rules)

    def urgency(self, route_name: str | None) -> int:
        """How its channel ranks a case's posts next to others' (0 first): the priority of
        the route that placed it."""
        return int(self._routes.named(route_name).priority)

    async def place(self, session: ParlantSession) -> Placement:
        """The customer's name and the route of a handed-off session.

        Raises:
            ParlantUnavailable: Parlant could not be reached.
        """
        assert session.handoff is not None
        customer = await self._parlant.customer(session.customer_id)
        if not self._routes.rules:
            return Placement(customer.name, self._routes.default)
        tags = set(customer.tags)
        for tag in customer.tags:
            if tag not in self._tag_names:
                self._tag_names[tag] = await self._parlant.tag_name(tag)
            if (name := self._tag_names[tag]) is not None:
                tags.add(name)
        facts = HandoffFacts(
            session_labels=session.labels,
            customer_tags=frozenset(tags),
            customer_metadata=customer.metadata,
            reason=session.handoff.reason,
            agent_id=session.agent_id,
            journeys=await self._journeys(session) if self._uses_journeys else frozenset(),
        )
        return Placement(customer.name, self._routes.route(facts))

    async def _journeys(self, session: ParlantSession) -> frozenset[str]:
        """Ids and titles of the journeys the session was in: those of its latest completed
        turn (the handoff turn itself completes only after the thread may be opened)."""
        found: set[str] = set()
        for journey in await self._parlant.active_journeys(session.id):
            if journey not in self._journey_titles:
                self._journey_titles[journey] = await self._parlant.journey_title(journey)
            found.add(journey)
            if (title := self._journey_titles[journey]) is not None:
                found.add(title)
        return frozenset(found)
