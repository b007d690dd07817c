"""Talking to the Solana chain: a JSON-RPC client (balances, block height, blockhash, token balances)."""
