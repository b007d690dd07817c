"""Wallets: /api/wallets."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.api import examples
from app.api.deps import config, db, process
from app.api.schemas import DeletedSchema, WalletCreateSchema, WalletPatchSchema, WalletSchema
from app.services import wallets as wallet_service

blp = Blueprint("wallets", __name__, url_prefix="/api/wallets",
                description="TEST wallets trade on paper; REAL wallets trade on chain.")


@blp.route("")
class Wallets(MethodView):
    @blp.response(200, WalletSchema(many=True))
    def get(self):
        """List wallets."""
        with db() as conn:
            return wallet_service.list_wallets(conn)

    @blp.arguments(WalletCreateSchema, example=examples.WALLET)
    @blp.response(201, WalletSchema)
    @blp.alt_response(409, description="Alias taken")
    def post(self, data):
        """Create a wallet (TEST by default, with the configured paper balance)."""
        with db() as conn:
            return wallet_service.create_wallet(conn, data, config())


@blp.route("/<string:alias>")
class WalletByAlias(MethodView):
    @blp.response(200, WalletSchema)
    @blp.alt_response(404, description="Unknown wallet")
    def get(self, alias):
        """Get a wallet by alias; a REAL wallet with its SOL on chain (`sol_balance`, or `chain_error`)."""
        with db() as conn:
            return wallet_service.get_wallet(conn, alias, chain_balance=_chain_balance)

    @blp.arguments(WalletPatchSchema, example=examples.WALLET_PATCH)
    @blp.response(200, WalletSchema)
    @blp.alt_response(404, description="Unknown wallet")
    def patch(self, data, alias):
        """Switch trading on/off, top up a TEST wallet's paper balance or set its limits (null: no limit)."""
        with db() as conn:
            return wallet_service.update_wallet(conn, alias, data)

    @blp.response(200, DeletedSchema)
    @blp.alt_response(404, description="Unknown wallet")
    @blp.alt_response(409, description="Wallet has open positions")
    def delete(self, alias):
        """Delete a wallet without open positions (its workflows and history go with it)."""
        with db() as conn:
            wallet_service.delete_wallet(conn, alias)
        return {"status": "deleted", "id": alias}


def _chain_balance(public_key: str) -> int:
    """Lamports on chain through this process's RPC client (ConfigError when SOLANA_RPC_URL is unset)."""
    return process().chain.get_balance(public_key)


@blp.route("/<string:alias>/circuit-breaker/reset")
class CircuitBreakerReset(MethodView):
    @blp.response(200, WalletSchema)
    @blp.alt_response(404, description="Unknown wallet")
    def post(self, alias):
        """Close the wallet's circuit breaker: its BUY workflows buy again; the losing streak restarts at 0."""
        with db() as conn:
            return wallet_service.reset_circuit_breaker(conn, alias)
