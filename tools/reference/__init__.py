"""PyTorch reference implementation (test oracle) of the Llama-family decoder."""
