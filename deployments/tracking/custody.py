"""The custody shards, as the Tracking and Handoff Services reach them: objects of this
process without Ray, the named actors `custody-0..N-1` under Ray (actors/client.py)."""
from __future__ import annotations

import uuid

from actors.client import LocalShardClient, RayShardClient, ShardClient
from actors.custody.errors import CustodyNotFound
from actors.custody.shard import CustodyShard
from actors.registry import CUSTODY_PREFIX, custody_shard
from deployments.kit import Ctx, Service

_LOCAL: dict[tuple[str, int], LocalShardClient] = {}  # one set of shard objects per database in a process


class CustodyDesk(Service):
    _custody: ShardClient | None = None

    @property
    def custody(self) -> ShardClient:
        if self._custody is None:
            url, n = self.settings.effective_database_url, self.settings.custody_shards
            if self.rt.under_ray:
                self._custody = RayShardClient(n, lambda i: custody_shard(i, shards=n, database_url=url,
                                                                          prefix=CUSTODY_PREFIX), what="custody shard")
            else:  # both services of this process must share the shard objects
                self._custody = _LOCAL.setdefault((url, n), LocalShardClient([CustodyShard(i, n, url)
                                                                              for i in range(n)]))
        return self._custody

    @staticmethod
    def is_party(state, ctx: Ctx) -> bool:
        """The sender, or a giver or receiver of one of its steps."""
        uid = ctx.user_id
        return uid == state.sender_id or any(uid in (s.giver_id, s.receiver_id) for s in state.steps)

    async def party_state(self, ctx: Ctx, shipment_id: uuid.UUID, any_perm: str):
        """The custody of a shipment the caller is a party of (or may see with `any_perm`);
        404 otherwise, as for an unknown one."""
        state = await self.custody.call(shipment_id, "state")
        if not (ctx.principal and (self.is_party(state, ctx) or await self.can(ctx, any_perm))):
            raise CustodyNotFound("No such shipment in custody.", id=str(shipment_id))
        return state
