"""Links from the estimators' HTML representation to the API reference."""

DOC_LINK_TEMPLATE = (
    "https://sklearn-kd.readthedocs.io/en/latest/generated/"
    "sklearn_kd.{estimator_name}.html"
)


def _doc_link_params(estimator):
    return {"estimator_name": type(estimator).__name__}


class DocLinkMixin:
    """Point the "?" icon of the HTML repr to sklearn_kd's API pages."""

    _doc_link_module = "sklearn_kd"
    _doc_link_template = DOC_LINK_TEMPLATE
    _doc_link_url_param_generator = _doc_link_params
