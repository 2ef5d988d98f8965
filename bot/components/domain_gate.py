"""Is the message about the property at all? A second opinion before any action.

DIET is confident even on sentences unlike anything it was trained on ("美元汇率多少" reads
like a bill question). This gate, a character n-gram logistic regression trained on the
same data to tell `out_of_scope` from everything else, turns the intent into
`out_of_scope` when it is confident enough; its probability is in the parse output
(`out_of_domain`) so that `make eval` can choose the threshold from data.
"""

from __future__ import annotations

from typing import Any

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

OUT_OF_SCOPE = "out_of_scope"
OUTPUT_KEY = "out_of_domain"
FILE = "gate.joblib"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class OutOfDomainGate(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"threshold": 0.5}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Pipeline | None = None,
    ) -> None:
        self.threshold = float(config["threshold"])
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OutOfDomainGate:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = [m.get(INTENT) == OUT_OF_SCOPE for m in examples]
        model = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
            LogisticRegression(max_iter=3000, C=10, class_weight="balanced"),
        )
        model.fit([m.get(TEXT) for m in examples], labels)
        self._model = model
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(model, directory / FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> OutOfDomainGate:
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / FILE)
        except ValueError:  # not trained (no NLU data)
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            intent = message.get(INTENT)
            if not text or not intent:
                continue
            probability = float(self._model.predict_proba([text])[0][1])
            message.set(OUTPUT_KEY, {"probability": probability}, add_to_output=True)
            if probability >= self.threshold and intent.get(INTENT_NAME_KEY) != OUT_OF_SCOPE:
                message.set(
                    INTENT,
                    {INTENT_NAME_KEY: OUT_OF_SCOPE, "confidence": probability},
                    add_to_output=True,
                )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
