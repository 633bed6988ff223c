# A small Flask app (Flask comes from the virtualenv given by WSGIPythonHome
# or python-home=): a routed view with a URL parameter, a query argument and
# a JSON answer.
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
def index():
    return "index\n"


@app.route("/hello/<name>")
def hello(name):
    return jsonify(message="Hello, %s!" % name,
                   lang=request.args.get("lang", "en"),
                   method=request.method,
                   path=request.path)


application = app
