"""Talking to a Parlant server the way a customer UI and an operator UI do (parlant-client)."""

from dataclasses import dataclass

from parlant.client import AsyncParlantClient
from parlant.client.types.event import Event

from agent.insurance_agent import AGENT_ID
from tests.support.polling import eventually


@dataclass(frozen=True)
class Chat:
    client: AsyncParlantClient
    session_id: str
    customer_id: str

    async def say(self, text: str) -> Event:
        return await self.client.sessions.create_event(
            self.session_id, kind="message", source="customer", message=text
        )

    async def messages(self, min_offset: int = 0) -> list[Event]:
        return await self.client.sessions.list_events(
            self.session_id, kinds="message", min_offset=min_offset, wait_for_data=0
        )

    async def tool_events(self, min_offset: int = 0) -> list[Event]:
        return await self.client.sessions.list_events(
            self.session_id, kinds="tool", min_offset=min_offset, wait_for_data=0
        )

    async def ai_replies_after(self, event: Event) -> list[Event]:
        return [e for e in await self.messages(event.offset + 1) if e.source == "ai_agent"]

    async def next_ai_reply(self, after: Event, timeout: float = 30.0) -> Event:
        replies = await eventually(
            lambda: self.ai_replies_after(after), timeout=timeout, what="an AI reply"
        )
        return replies[0]

    async def turn_finished(self, after: Event, timeout: float = 30.0) -> None:
        """Wait until the engine reports the turn that ``after`` started as completed."""

        async def completed() -> bool:
            events = await self.client.sessions.list_events(
                self.session_id, kinds="status", min_offset=after.offset + 1, wait_for_data=0
            )
            return any(isinstance(e.data, dict) and e.data.get("status") == "ready" for e in events)

        await eventually(completed, timeout=timeout, what="the turn to finish")


async def open_chat(client: AsyncParlantClient, customer_name: str = "Jane Doe") -> Chat:
    customer = await client.customers.create(name=customer_name)
    session = await client.sessions.create(agent_id=AGENT_ID, customer_id=customer.id)
    return Chat(client=client, session_id=session.id, customer_id=customer.id)
