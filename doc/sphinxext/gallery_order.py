"""Order of the examples in the sphinx-gallery index.

Listed examples come first, in this order; any other example follows,
sorted by file name.
"""

ORDER = [
    "plot_quick_start.py",
    "plot_distill_hist_gradient_boosting.py",
    "plot_tune_temperature.py",
    "plot_teacher_cv.py",
    "plot_hierarchical_data.py",
    "plot_knowledge_levels.py",
]


class ExampleOrder:
    """Sort key for ``sphinx_gallery_conf["within_subsection_order"]``."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in ORDER:
            return (ORDER.index(filename), filename)
        return (len(ORDER), filename)

    def __repr__(self):
        return f"{type(self).__name__}()"
