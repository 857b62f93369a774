"""The official national catalogue: import from the portal's sources, the shipped snapshot, and the sync client."""
