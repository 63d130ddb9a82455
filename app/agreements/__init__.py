"""The registry of cooperation agreements (MoU, PKS) with partner organisations."""
