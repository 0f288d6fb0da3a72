"""Thin jobflow jobs and job Makers: relax, phonons, MD, anharmonicity (and rescoring)."""
