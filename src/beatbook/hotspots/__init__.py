"""Where crime concentrates: grid counts, Getis-Ord Gi* hotspots, top places."""
