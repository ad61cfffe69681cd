"""What the lineage benchmark's measurements of one graph size share (bench/lineage_bench.py
runs them; bench/lineage_inprocess.py holds the in-process ones)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import asyncpg
import httpx
import lineage_queries as lq
from _common import Server
from lineage_report import Results

from server.domain import access


@dataclass
class Bench:
    """Everything the measurements need for one size."""

    size: str
    server: Server
    key: str
    pool: asyncpg.Pool
    viewer: access.Viewer
    ordinary: list[lq.Start]
    popular: list[lq.Start]
    args: argparse.Namespace
    results: Results

    @property
    def members(self) -> list[int]:
        return access.member_entity_ids(self.viewer)

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.server.url, timeout=300, headers={"authorization": f"Bearer {self.key}"}
        )
