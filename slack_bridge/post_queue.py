"""Which waiting posts a channel sends next: pure, no I/O.

Each thread keeps its posts in the order they came. The thread whose oldest waiting post
has the best priority goes next; threads at the same priority take turns, the one served
longest ago first. A thread's turn takes its oldest post, and the session lines right behind
it that fit into the same Slack message.
"""

from collections import OrderedDict, deque

from slack_bridge.formatting import POST_CHARS
from slack_bridge.ids import Ts
from slack_bridge.posts import Post, PostPriority

SPEAKER_LINE_CHARS = 120  # room for each speaker line a combined post adds


class PostQueue:
    def __init__(self) -> None:
        self._threads: dict[Ts | None, deque[Post]] = {}
        # Each waiting thread is in exactly one line: that of its oldest post's priority.
        self._lines: dict[PostPriority, OrderedDict[Ts | None, None]] = {
            priority: OrderedDict() for priority in sorted(PostPriority)
        }

    def add(self, thread_ts: Ts | None, post: Post) -> None:
        posts = self._threads.get(thread_ts)
        if posts is None:
            self._threads[thread_ts] = deque([post])
            self._lines[post.priority][thread_ts] = None
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
            self._lines[posts[0].priority][thread_ts] = None
        else:
            del self._threads[thread_ts]
        return thread_ts, batch

    def drop(self, thread_ts: Ts | None) -> list[Post]:
        """Every post still waiting for the thread, taken out of the queue."""
        posts = self._threads.pop(thread_ts, None)
        if not posts:
            return []
        del self._lines[posts[0].priority][thread_ts]
        return list(posts)

    def __bool__(self) -> bool:
        return bool(self._threads)

    def __len__(self) -> int:
        return sum(len(posts) for posts in self._threads.values())


def _batch(posts: deque[Post]) -> list[Post]:
    batch = [posts.popleft()]
    size = len(batch[0].text)
    while posts and batch[0].line and posts[0].line and size + len(posts[0].text) < POST_CHARS:
        size += len(posts[0].text) + SPEAKER_LINE_CHARS
        batch.append(posts.popleft())
    return batch
