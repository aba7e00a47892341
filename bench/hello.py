"""The hello-world Flask app the portal's throughput is compared with."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
