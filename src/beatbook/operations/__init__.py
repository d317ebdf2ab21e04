"""Operations and their results: records and CSV import."""
