"""A deterministic corpus of Traditional Chinese agency news for benchmarks.

Titles of 3 to 6 words, bodies of 1 to 3 KB, 100 agencies; the same seed
gives the same bytes on every machine.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

WORDS = (
    "政府 公告 計畫 補助 申請 民眾 服務 防疫 交通 道路 施工 颱風 停班 停課 "
    "教育 學校 醫療 健保 長照 社會 福利 勞工 就業 青年 創業 農業 漁業 環境 "
    "空氣 水質 文化 藝術 觀光 活動 預算 稅務 財政 經濟 產業 科技 數位 資安 "
    "治安 消防 災害 應變 宣導 說明會 記者會 會議 法規 修正 草案 公聽會 選舉 "
    "投票 戶政 地政 建築 都市 住宅 能源 電力 用水 港口 機場 鐵路 公車 捷運"
).split()


@dataclass(frozen=True)
class BenchFeed:
    path: str
    body: bytes
    etag: str


def _paragraph(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))) + "。"


def make_feed(index: int, now: datetime, items: int = 20) -> bytes:
    """Render feed number ``index``: RSS 2.0, UTF-8, its newest item an hour old."""
    rng = random.Random(index)
    agency = index % 100
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>機關{agency:03d} 最新消息</title>",
        f"<link>https://www.agency{agency:03d}.gov.tw/</link>",
        "<description>機關新聞稿</description><language>zh-TW</language>",
    ]
    for n in range(items):
        title = "".join(rng.choice(WORDS) for _ in range(rng.randint(3, 6)))
        body = ""
        while len(body.encode()) < rng.randint(1024, 3072):
            body += f"<p>{_paragraph(rng)}</p>"
        published = now - timedelta(hours=1, minutes=25 * n)
        link = (
            f"https://www.agency{agency:03d}.gov.tw/News_Content.aspx?n=1&s={index}-{n}"
        )
        parts.append(
            "<item>"
            f"<title>{escape(title)}</title>"
            f"<link>{escape(link)}</link>"
            f'<guid isPermaLink="false">feed{index}-item{n}</guid>'
            f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
            f"<description>{escape(body)}</description>"
            "</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def make_corpus(count: int, now: datetime | None = None) -> list[BenchFeed]:
    now = now or datetime.now(UTC).replace(microsecond=0)
    return [
        BenchFeed(path=f"/feeds/{i}.xml", body=make_feed(i, now), etag=f'"f{i}-v1"')
        for i in range(count)
    ]
