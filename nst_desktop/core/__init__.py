"""Pure computation for NST Desktop: torch, torchvision, numpy and Pillow only, never Qt."""
