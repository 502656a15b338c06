"""Full-text search across a hotline's knowledge-base articles, Russian and English.

One code path for both databases: words are stemmed in Python with the Snowball stemmers
(``snowballstemmer``; the same algorithms as PostgreSQL's ``russian``/``english`` text
search configurations), so "доставка" finds "доставки" and "доставкой", "refunds" finds
"refund", on SQLite as on PostgreSQL.  A word in Cyrillic goes through the Russian
stemmer, any other through the English one, so a Russian article quoting an English
product name is found by either.

Stemming every article on every request would be slow for thousands of articles, so the
stems of each article are kept in a per-application cache keyed by ``(id, updated_at)``
(the API bumps ``updated_at`` on every change); a request reads only ids and timestamps
and stems what is new.  ``bench/kb_search.py`` measures it.

Scope: the query runs in the principal's scoped session, so another tenant's hotline is
invisible (422 naming ``hotline_id``) and another tenant's article is never returned.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from dataclasses import dataclass
from typing import Annotated

import snowballstemmer  # type: ignore[import-untyped]  # no stubs published
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from hotline.core.access import Action, Principal, Resource
from hotline.store import models as m
from hotline.web.api.crud import ERRORS, visible_hotline
from hotline.web.api.deps import Session, require
from hotline.web.api.errors import invalid
from hotline.web.api.fields import INT32_MAX

__all__ = ["ArticleIndex", "KbIndex", "router", "search_terms", "stems"]

router = APIRouter(prefix="/kb-articles", tags=["knowledge base"], responses=ERRORS)
CanRead = Annotated[Principal, Depends(require(Action.READ, Resource.KB_ARTICLE))]

_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[а-я]")
_RUSSIAN = snowballstemmer.stemmer("russian")
_ENGLISH = snowballstemmer.stemmer("english")
#: a title match weighs as much as this many matches in the body
TITLE_WEIGHT = 5
SNIPPET_CHARS = 160
#: articles whose stems the cache keeps (about 2 KiB each for a page of text)
CACHE_LIMIT = 50_000


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    stemmer = _RUSSIAN if _CYRILLIC.search(word) else _ENGLISH
    return str(stemmer.stemWord(word))


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("ё", "е"))


def stems(text: str) -> list[str]:
    """The stems of the words of ``text``, in order (lower-cased, ё read as е)."""
    return [_stem(w) for w in _words(text)]


def search_terms(query: str) -> list[str]:
    """Distinct stems of a query, in order; all of them must occur in an article."""
    return list(dict.fromkeys(stems(query)))


@dataclass(frozen=True, slots=True)
class ArticleIndex:
    updated_at: dt.datetime
    title: frozenset[str]
    body: Counter[str]

    def score(self, terms: list[str]) -> int:
        """0 unless every term occurs in the title or the body; more for more matches."""
        total = 0
        for term in terms:
            hits = TITLE_WEIGHT * (term in self.title) + self.body.get(term, 0)
            if hits == 0:
                return 0
            total += hits
        return total


class KbIndex:
    """Stems of articles by id, valid while the article's ``updated_at`` is unchanged."""

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        self._limit = limit
        self._by_id: dict[int, ArticleIndex] = {}

    def get(self, article_id: int, updated_at: dt.datetime) -> ArticleIndex | None:
        found = self._by_id.get(article_id)
        return found if found is not None and found.updated_at == updated_at else None

    def put(self, article_id: int, updated_at: dt.datetime, title: str, body: str) -> ArticleIndex:
        if len(self._by_id) >= self._limit:
            self._by_id.clear()  # rare (more articles than the limit): start afresh
        entry = ArticleIndex(updated_at, frozenset(stems(title)), Counter(stems(body)))
        self._by_id[article_id] = entry
        return entry


def snippet(body: str, terms: list[str]) -> str:
    """About :data:`SNIPPET_CHARS` characters of ``body`` around the first matching word."""
    wanted = set(terms)
    start = 0
    for match in _WORD.finditer(body):
        if _stem(match.group().lower().replace("ё", "е")) in wanted:
            start = max(0, match.start() - SNIPPET_CHARS // 4)
            break
    piece = body[start : start + SNIPPET_CHARS].strip()
    return ("…" if start > 0 else "") + piece + ("…" if start + SNIPPET_CHARS < len(body) else "")


class KbHit(BaseModel):
    id: int
    hotline_id: int
    title: str
    language: str
    tags: list[str]
    snippet: str
    score: int


class KbHits(BaseModel):
    query: str
    terms: list[str]
    items: list[KbHit]
    total: int


def _index(request: Request) -> KbIndex:
    index = getattr(request.app.state, "kb_index", None)
    if not isinstance(index, KbIndex):
        index = request.app.state.kb_index = KbIndex()
    return index


@router.get(
    "/search",
    response_model=KbHits,
    summary="Full-text search of a hotline's articles (Russian and English stemming)",
)
async def search_articles(
    request: Request,
    _p: CanRead,
    session: Session,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    hotline_id: Annotated[int, Query(ge=1, le=INT32_MAX)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> KbHits:
    terms = search_terms(q)
    if not terms:
        raise invalid("q", "no words to search for")
    await visible_hotline(session, hotline_id, "hotline_id")
    index = _index(request)
    rows = (
        await session.execute(
            sa.select(m.KbArticle.id, m.KbArticle.updated_at).where(
                m.KbArticle.hotline_id == hotline_id
            )
        )
    ).all()
    entries: dict[int, ArticleIndex | None] = {aid: index.get(aid, at) for aid, at in rows}
    stale = [aid for aid, entry in entries.items() if entry is None]
    for chunk in range(0, len(stale), 500):
        fresh = await session.execute(
            sa.select(
                m.KbArticle.id, m.KbArticle.updated_at, m.KbArticle.title, m.KbArticle.body
            ).where(m.KbArticle.id.in_(stale[chunk : chunk + 500]))
        )
        for aid, at, title, body in fresh:
            entries[aid] = index.put(aid, at, title, body)
    scored = sorted(
        ((entry.score(terms), aid) for aid, entry in entries.items() if entry is not None),
        key=lambda pair: (-pair[0], pair[1]),
    )
    matched = [(score, aid) for score, aid in scored if score > 0]
    top = matched[:limit]
    articles = {
        a.id: a
        for a in (
            await session.scalars(
                sa.select(m.KbArticle).where(m.KbArticle.id.in_([aid for _, aid in top]))
            )
        )
    }
    items = [
        KbHit(
            id=aid,
            hotline_id=articles[aid].hotline_id,
            title=articles[aid].title,
            language=articles[aid].language,
            tags=list(articles[aid].tags or []),
            snippet=snippet(articles[aid].body, terms),
            score=score,
        )
        for score, aid in top
        if aid in articles  # deleted between the two queries
    ]
    return KbHits(query=q, terms=terms, items=items, total=len(matched))
