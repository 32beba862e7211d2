"""Config files in the shapes the public VIEWS repositories use (written for these tests).

views-models and views_pipeline declare a model's deployment status in
`configs/config_deployment.py` in these forms (seen at their tags and heads, 2026):
a one-line dict inside `get_deployment_config()` with single quotes (most models), a
multi-line dict with double quotes and a trailing comment, a dict with extra server
settings (the APIs), and a bare three-line function (newer ensembles).
views-pipeline-core ADR-057 renames the file to `config_maturity.py` with
`get_maturity_config()` returning `maturity`.
"""

DOCSTRING_ONE_LINE = '''"""
Deployment settings of this model.

Statuses:
- shadow: runs beside production, not published.
- deployed: published.
"""

def get_deployment_config():
    # Deployment settings
    deployment_config = {'deployment_status': '%s'}
    return deployment_config
'''

MULTI_LINE_COMMENTED = '''def get_deployment_config():

    """
    How the model is deployed.

    Returns:
    - deployment_config (dict): the deployment settings.
    """

    # More settings may follow
    deployment_config = {
       "deployment_status": "%s", # shadow, deployed, baseline, or deprecated
    }

    return deployment_config
'''

WITH_SERVER_SETTINGS = """def get_deployment_config():
    deployment_config = {'deployment_status': '%s',
                         'port': 8000,
                         'host': '0.0.0.0',
                         'workers': 4}
    return deployment_config
"""

BARE = """def get_deployment_config():
    deployment_config = {"deployment_status": "%s"}
    return deployment_config
"""

MATURITY = '''def get_maturity_config():
    """Where the model stands in its life (candidate, graduate, retired)."""
    maturity_config = {
        "maturity": "%s",
    }
    return maturity_config
'''

META = '''def get_meta_config():
    """Documentation only."""
    meta_config = {
        "name": "%s",
        "algorithm": "LGBMRegressor",
        "regression_point_metrics": ["RMSLE", "MSE", "MSLE", "y_hat_bar"],
        "regression_targets": ["lr_ged_sb"],
        "level": "pgm",
    }
    return meta_config
'''


def deployment(shape: str, status: str) -> str:
    return shape % status
