"""Which waiting posts a channel sends next: pure, no I/O.

Each thread keeps its posts in the order they came. The thread whose oldest waiting post
has the best priority (then the best urgency: its case's route priority) goes next;
threads at the same rank take turns, the one served longest ago first. A thread's turn
takes its oldest post, and the session lines right behind it that fit into the same Slack
message.
"""

from collections import OrderedDict, deque

from slack_bridge.formatting import POST_CHARS
from slack_bridge.ids import Ts
from slack_bridge.posts import Post, PostPriority

SPEAKER_LINE_CHARS = 120  # room for each speaker line a combined post adds
URGENCIES = (0, 1, 2)


class PostQueue:
    def __init__(self) -> None:
        self._threads: dict[Ts | None, deque[Post]] = {}
        # Each waiting thread is in exactly one line: that of its oldest post's rank.
        self._lines: dict[tuple[PostPriority, int], OrderedDict[Ts | None, None]] = {
            (priority, urgency): OrderedDict()
            for priority in sorted(PostPriority)
            for urgency in URGENCIES
        }

    def add(self, thread_ts: Ts | None, post: Post) -> None:
        posts = self._threads.get(thread_ts)
        if posts is None:
            self._threads[thread_ts] = deque([post])
            self._lines[_rank(post)][thread_ts] = None
        else:
            posts.append(post)

    def take(self) -> tuple[Ts | None, list[Post]]:
        """The next thread's next batch (a single post, or session lines to combine).

        Raises:
            LookupError: nothing is waiting.
        """
        line = next((line for line in self._lines.values() if line), None)
        if line is None:
            raise LookupError("no post is waiting")
        thread_ts, _ = line.popitem(last=False)
        posts = self._threads[thread_ts]
        batch = _batch(posts)
        if posts:
            self._lines[_rank(posts[0])][thread_ts] = None
        else:
            del self._threads[thread_ts]
        return thread_ts, batch

    def drop(self, thread_ts: Ts | None) -> list[Post]:
        """Every post still waiting for the thread, taken out of the queue."""
        posts = self._threads.pop(thread_ts, None)
        if not posts:
            return []
        del self._lines[_rank(posts[0])][thread_ts]
        return list(posts)

    def __bool__(self) -> bool:
        return bool(self._threads)

    def __len__(self) -> int:
        return sum(len(posts) for posts in self._threads.values())


def _rank(post: Post) -> tuple[PostPriority, int]:
    return post.priority, min(max(post.urgency, URGENCIES[0]), URGENCIES[-1])


def _batch(posts: deque[Post]) -> list[Post]:
    batch = [posts.popleft()]
    size = len(batch[0].text)
    while posts and batch[0].line and posts[0].line and size + len(posts[0].text) < POST_CHARS:
        size += len(posts[0].text) + SPEAKER_LINE_CHARS
        batch.append(posts.popleft())
    return batch
