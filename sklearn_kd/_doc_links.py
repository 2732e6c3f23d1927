"""Links from the estimators' HTML representation to the API reference."""

#: scikit-learn fills in the public module (``sklearn_kd`` or
#: ``sklearn_kd.teachers``) and the class name.
DOC_LINK_TEMPLATE = (
    "https://sklearn-kd.readthedocs.io/en/latest/generated/"
    "{estimator_module}.{estimator_name}.html"
)


class DocLinkMixin:
    """Point the "?" icon of the HTML repr to sklearn_kd's API pages."""

    _doc_link_module = "sklearn_kd"
    _doc_link_template = DOC_LINK_TEMPLATE
