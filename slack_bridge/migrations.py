"""The bridge store's schema, as numbered, append-only steps.

``PRAGMA user_version`` records how many steps a database has had; opening it applies the
rest, each in one transaction. Never edit a step that has shipped: add the next one.
"""

import aiosqlite

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1 — the first release: threads, operator messages, the bridge's own events, activity.
    (
        """CREATE TABLE IF NOT EXISTS conversations (
        session_id TEXT PRIMARY KEY,
        ref TEXT NOT NULL UNIQUE,
        customer_name TEXT NOT NULL,
        reason TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        channel TEXT,
        thread_ts TEXT,
        cursor INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        opened_at REAL NOT NULL
    )""",
        "CREATE UNIQUE INDEX IF NOT EXISTS conversations_thread"
        " ON conversations (channel, thread_ts)",
        """CREATE TABLE IF NOT EXISTS slack_messages (
        channel TEXT NOT NULL,
        ts TEXT NOT NULL,
        session_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        as_ai INTEGER NOT NULL,
        text TEXT NOT NULL,
        origin TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        event_id TEXT,
        received_at REAL NOT NULL,
        PRIMARY KEY (channel, ts)
    )""",
        "CREATE INDEX IF NOT EXISTS slack_messages_state ON slack_messages (state, received_at)",
        """CREATE TABLE IF NOT EXISTS bridge_events (
        event_id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL
    )""",
        """CREATE TABLE IF NOT EXISTS operator_activity (
        user_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (user_id, session_id)
    )""",
    ),
    # 2 — the author's own workspace, for the operator check of messages found later.
    ("ALTER TABLE slack_messages ADD COLUMN user_team TEXT",),
    # 3 — the thread's newest post the bridge knows of: where reading the thread back starts.
    ("ALTER TABLE conversations ADD COLUMN last_post_ts TEXT",),
    # 4 — a handoff is a case: its state, owner, who changed it when, the reaction showing it,
    # whether a resolved one waits for the customer to write again (``dormant``);
    # operator messages may be held (another operator owns the case, or it looks internal)
    # and corrections point at the reply they correct. A thread returned to the AI by the
    # first release stopped following its session: such cases are resolved.
    (
        "ALTER TABLE conversations ADD COLUMN state TEXT NOT NULL DEFAULT 'waiting'",
        "ALTER TABLE conversations ADD COLUMN state_since REAL",
        "ALTER TABLE conversations ADD COLUMN state_by TEXT",
        "ALTER TABLE conversations ADD COLUMN owner TEXT",
        "ALTER TABLE conversations ADD COLUMN root_reaction TEXT",
        "ALTER TABLE conversations ADD COLUMN dormant INTEGER NOT NULL DEFAULT 0",
        "UPDATE conversations SET state = CASE active WHEN 1 THEN 'waiting' ELSE 'resolved' END,"
        " state_since = opened_at",
        "ALTER TABLE conversations DROP COLUMN active",
        "CREATE INDEX IF NOT EXISTS conversations_state ON conversations (state)",
        "ALTER TABLE slack_messages ADD COLUMN reply_to TEXT",
    ),
    # 5 — routing: the rule that placed a case (its channel is ``channel``), and when the
    # channel was last reminded of a case waiting unclaimed.
    (
        "ALTER TABLE conversations ADD COLUMN route TEXT",
        "ALTER TABLE conversations ADD COLUMN alerted_at REAL",
    ),
    # 6 — the bridge's own state (until when it was listening to Slack), and indexes for
    # pruning what is past its retention.
    (
        "CREATE TABLE IF NOT EXISTS bridge_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS slack_messages_received ON slack_messages (received_at)",
        "CREATE INDEX IF NOT EXISTS bridge_events_session ON bridge_events (session_id)",
        "CREATE INDEX IF NOT EXISTS operator_activity_at ON operator_activity (at)",
    ),
    # 7 — whether a thread may show posts its cursor does not count (posts were on their way
    # when the bridge stopped): only those threads are read back after a restart. Rows of
    # earlier releases are read back once.
    ("ALTER TABLE conversations ADD COLUMN posting INTEGER NOT NULL DEFAULT 1",),
)


async def migrate(db: aiosqlite.Connection) -> int:
    """Bring ``db`` to the newest schema; returns the version it had."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    for number in range(version, len(MIGRATIONS)):
        await db.execute("BEGIN")
        try:
            for statement in MIGRATIONS[number]:
                await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {number + 1}")
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
    return version
